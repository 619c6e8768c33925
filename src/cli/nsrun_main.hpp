// `nsrun`, the second front end: ns-runtime's binary called by that name (a link installed
// beside it) runs this instead of the runc command line.
#pragma once

// Whether the command puts processes of ours into a sandbox (run, exec): the binary is then
// protected as for ns-runtime's create/run/exec.
bool nsrun_enters_container(int argc, char** argv);
// HOST_MOUNT_NS: the host's mount namespace when the binary guard moved us into a private one.
int nsrun_main(int argc, char** argv, int host_mount_ns);
