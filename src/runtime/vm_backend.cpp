// VM mode's back end: the container runs in a microVM of its own. create plans the machine
// (accelerator, size, shares), makes the host cgroup, forks the monitor (vm/monitor.hpp) that
// boots QEMU and has the guest agent create the container inside, and waits until it is
// created there. The host sees one process per container, the monitor, as its pid; QEMU and
// virtiofsd are its children, all three in the container's cgroup on the host.
#include <signal.h>
#include <unistd.h>

#include "common/json.hpp"
#include "common/file.hpp"
#include "common/log.hpp"
#include "explain/explain.hpp"
#include "linux/cgroup/resources.hpp"
#include "runtime/backend.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/sync.hpp"
#include "vm/machine.hpp"
#include "vm/monitor.hpp"
#include "vm/pool.hpp"
#include "vm/qmp.hpp"
#include "vm/vmm.hpp"

namespace ns::runtime {
namespace {

class VmBackend final : public Backend {
 public:
  explicit VmBackend(std::string root) : store_(root), ns_(namespace_backend(root)) {}
  const char* name() const override { return "vm"; }

  Result<Created> create(const CreateOptions& opts, const oci::Spec& spec, state::State& st) override {
    log::set_role(log::Role::Parent);
    sys::Kernel& k = sys::real_kernel();
    const oci::Linux no_linux{};
    const oci::Linux& l = spec.linux ? *spec.linux : no_linux;

    // 1. the machine: accelerator, kernel and agent, size; the guest's config and its shares.
    explain::Step machine_step(vm::narration::kMachine);
    if (::geteuid() != 0)
      return make_error("VM mode needs root: the share's mount namespace, virtiofsd and QEMU's devices are root's");
    if (opts.preserve_fds > 0) return make_error("VM mode: --preserve-fds cannot pass host fds into a VM");
    if (opts.listen_fds > 0) return make_error("VM mode: LISTEN_FDS (socket activation) cannot pass host fds into a VM");
    vm::MonitorPlan plan;
    plan.id = opts.id;
    plan.dir = store_.vm_dir(opts.id);
    // Its own directory for the sockets and logs (removed with the state by delete).
    TRY(remove_tree(plan.dir));
    if (::mkdir(plan.dir.c_str(), 0700) < 0) return sys_error("mkdir", plan.dir);
    plan.machine.assets = TRY(vm::find_assets());
    plan.machine.qemu = TRY(vm::find_program("qemu-system-x86_64", "qemu-system-x86"));
    plan.virtiofsd = TRY(vm::find_virtiofsd());
    plan.machine.accel = TRY(vm::choose_accel(opts.vm_accel.empty() ? "auto" : opts.vm_accel));
    plan.machine.tsc_khz = vm::host_tsc_khz();
    auto resources = linux_cgroup::parse_resources(l.resources);
    if (!resources) return with_stage(resources.error(), "cgroup");
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    plan.machine.size = vm::size_machine(*resources, cpus > 0 ? static_cast<int>(cpus) : 1);
    auto config = parse_json(TRY(read_file(opts.bundle + "/config.json")));
    if (config.is_discarded()) return make_error("config.json: not valid JSON");
    plan.guest = TRY(vm::plan_guest(config, opts.bundle, st.rootfs));
    plan.terminal = spec.process->terminal;
    // A VM booted ahead by the warm pool, when one runs and has one that fits; else a cold boot.
    // (A pooled VM has no NIC: a container with a network to wire boots its own.)
    if (plan.guest.netns_path.empty())
      plan.pooled = TRY(vm::pool_take(store_.root(), {plan.guest.shares, plan.machine.size.guest_mib,
                                                      plan.machine.size.vcpus, plan.machine.accel}));
    struct PooledGuard {
      std::optional<vm::MonitorPlan::Pooled>& p;
      bool armed = true;
      ~PooledGuard() {
        if (!armed || !p) return;
        ::close(p->agent_fd);  // the agent sees the channel close and powers the guest off
        ::kill(p->qemu, SIGKILL);
      }
    } pooled_guard{plan.pooled};
    vm::place_in(plan);
    if (plan.pooled && ::symlink(plan.pooled->qmp.c_str(), vm::qmp_path(plan.dir).c_str()) < 0)
      return sys_error("symlink", vm::qmp_path(plan.dir));
    if (explain::on()) {
      std::string why = plan.machine.accel == "kvm" ? " (hardware KVM)"
                        : opts.vm_accel == "tcg" ? " (software emulation, asked for with --vm-accel tcg)"
                                                 : " (software emulation: no working hardware KVM here)";
      explain::note("PARENT", "accelerator: " + plan.machine.accel + why);
      explain::note("PARENT", "guest: " + std::to_string(plan.machine.size.guest_mib) + " MiB, " +
                                  std::to_string(plan.machine.size.vcpus) + " vCPU; kernel " + plan.machine.assets.kernel +
                                  ", initramfs " + plan.machine.assets.initrd);
      explain::note("PARENT", std::to_string(plan.guest.shares.size()) + " host path(s) shared over virtio-fs");
    }
    machine_step.done();

    // 2. the host cgroup: QEMU, virtiofsd and the monitor, limited to the guest's memory plus
    //    QEMU's own and to the container's CPU time. The container's limits apply inside.
    explain::Step cgroup_step(linux_cgroup::narration::kCreate);
    auto cgroup = TRY(make_container_cgroup(k, vm::host_resources(*resources, plan.machine.size), l.cgroups_path,
                                            opts.id, opts.systemd_cgroup));
    cgroup_step.done();

    // 3. the exec fifo (the monitor blocks on it until start) and the sync channel.
    std::string fifo = store_.fifo_path(opts.id);
    TRY(make_exec_fifo(fifo, !spec.hooks.poststart.empty()));
    UniqueFd fifo_fd = TRY(open_exec_fifo(k, fifo));
    UniqueFd parent_end, child_end;
    TRY(make_sync_pair(parent_end, child_end));

    // 4. the monitor.
    pid_t pid = ::fork();
    if (pid < 0) return sys_error("fork", "VM monitor");
    if (pid == 0) {
      parent_end.reset();
      vm::monitor_main(plan, child_end.get(), fifo_fd.get());
    }
    child_end.reset();
    fifo_fd.reset();
    ChildGuard child_guard{pid};
    if (plan.pooled) {
      ::close(plan.pooled->agent_fd);  // the monitor has its copy
      plan.pooled->agent_fd = -1;
    }
    if (cgroup->active) {
      explain::Step join_step(linux_cgroup::narration::kJoin);
      if (auto r = cgroup->cg.add_pid(k, pid); !r) return with_stage(r.error(), "cgroup");
      // A pooled VM's processes move in from the pool's cgroup.
      if (plan.pooled)
        for (pid_t p : vm::machine_pids(plan.pooled->qemu, plan.pooled->virtiofsd))
          if (auto r = cgroup->cg.add_pid(k, p); !r) return with_stage(r.error(), "cgroup");
      join_step.done();
    }
    TRY(run_runtime_hooks(spec, opts, pid));
    TRY(send_message(parent_end.get(), Message{Msg::Go, {}}));

    // 5. the monitor boots the VM and has the agent create the container inside.
    Created out;
    for (;;) {
      UniqueFd fd;
      auto m = recv_message(parent_end.get(), &fd);
      if (!m) return make_error("the VM monitor exited before the container was created");
      if (m->type == Msg::Error) return with_stage(m->error, "vm");
      if (m->type == Msg::Ready) break;
      if (m->type == Msg::ConsoleMaster) TRY(hand_console(opts, std::move(fd), out));
      (void)relay_narration(*m, "VM");
    }
    st.pid = pid;
    st.pid_start = state::process_start_time(pid).value_or(0);
    st.cgroup_path = cgroup->active ? cgroup->cg.path() : "";
    st.freezer = cgroup->active ? cgroup->cg.freezer_file() : "";
    st.annotations[kVmAccelAnnotation] = plan.machine.accel;
    out.pid = pid;
    out.sync = std::move(parent_end);
    child_guard.armed = false;
    pooled_guard.armed = false;
    cgroup->kept = true;
    return out;
  }

  // The VM's monitor always waits on the exec fifo: start() releases it (start_at_commit unset).
  Result<void> commit(Created& c) override { return ns_.commit(c); }

  Result<void> start(const state::State& st) override {
    explain::Step step(vm::narration::kStart);
    TRY(release_exec_fifo(store_.fifo_path(st.id), st.id));
    step.done();
    return {};
  }

  Result<void> kill(const state::State& st, int sig, bool all) override {
    // SIGKILL needs no agent: the monitor dies, and QEMU and virtiofsd with it.
    if (sig == SIGKILL && !all) return ns_.kill(st, sig, false);
    explain::Step step(vm::narration::kKill);
    if (state::process_start_time(st.pid) != st.pid_start) return make_error("container not running");
    TRY(vm::send_signal(store_.vm_dir(st.id), sig, all));
    step.done();
    return {};
  }

  // The host's processes of the container: the monitor, QEMU and virtiofsd.
  Result<std::vector<pid_t>> pids(const state::State& st) override { return ns_.pids(st); }

  Result<int> exec(const state::State& st, const ExecOptions& opts, const oci::Process& process) override {
    if (opts.preserve_fds > 0) return make_error("VM mode: --preserve-fds cannot pass host fds into a VM");
    return vm::exec(store_.vm_dir(st.id), opts, process);
  }

  // Pause: QEMU stops the guest's vCPUs (QMP stop), then the host cgroup is frozen, QEMU and
  // virtiofsd with it, so that nothing of the container runs and `state` says paused. Resume
  // in the reverse order.
  Result<void> freeze(const state::State& st, bool frozen) override {
    explain::Step step(frozen ? vm::narration::kPause : vm::narration::kResume);
    std::string qmp = vm::qmp_path(store_.vm_dir(st.id));
    if (frozen) TRY(vm::qmp_execute(qmp, "stop"));
    if (explain::on()) explain::call("PARENT", "QMP " + qmp + ": " + (frozen ? "stop" : "cont"));
    auto r = ns_.freeze(st, frozen);
    if (!r) {
      if (frozen) (void)vm::qmp_execute(qmp, "cont");
      return r;
    }
    if (!frozen) TRY(vm::qmp_execute(qmp, "cont"));
    step.done();
    return {};
  }

  // The host cgroup gets what holds for QEMU (memory plus its overhead, CPU time); the agent
  // applies the whole of RESOURCES to the container's cgroup inside the guest. The guest's
  // memory was sized at boot: a larger limit is only as large as the guest.
  Result<void> update(const state::State& st, const nlohmann::json& resources) override {
    explain::Step step(linux_cgroup::narration::kUpdate);
    auto r = TRY(linux_cgroup::parse_resources(resources));
    if (!st.cgroup_path.empty()) {
      sys::Kernel& k = sys::real_kernel();
      long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
      auto host = vm::host_resources(r, vm::size_machine(r, cpus > 0 ? static_cast<int>(cpus) : 1));
      auto writes = linux_cgroup::plan_writes(host, /*skip_zero=*/true);
      linux_cgroup::Cgroup cg(TRY(linux_cgroup::detect_layout(k)), st.cgroup_path);
      TRY(linux_cgroup::check_controllers(k, cg, writes));
      TRY(linux_cgroup::enable_v2_controllers(k, cg, writes));
      TRY(linux_cgroup::apply(k, cg, writes));
    }
    TRY(vm::update_inside(store_.vm_dir(st.id), resources));
    step.done();
    return {};
  }

  // SIGKILL to the monitor, then whatever is left in the host cgroup, then the cgroup.
  Result<void> destroy(const state::State& st, bool init_reaped) override { return ns_.destroy(st, init_reaped); }

 private:
  state::Store store_;
  Backend& ns_;
};

}  // namespace

Backend& vm_backend(const std::string& state_root) {
  static VmBackend b(state_root);
  return b;
}

}  // namespace ns::runtime
