/* The VM floor's /init: prints one line on the console and powers the guest off at once. A boot
 * of the guest kernel with this initramfs is the floor VM mode is measured against (bench/vm-floor.sh). */
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void) {
  printf("nano-sandbox floor: guest up\n");
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  return 1;
}
