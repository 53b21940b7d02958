/* kexec-file KERNEL INITRD CMDLINE: load with kexec_file_load, then reboot into it. */
#include <fcntl.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int k = open(argv[1], O_RDONLY | O_CLOEXEC), i = open(argv[2], O_RDONLY | O_CLOEXEC);
  if (k < 0 || i < 0) { perror("open"); return 1; }
  if (syscall(SYS_kexec_file_load, k, i, strlen(argv[3]) + 1, argv[3], 0UL) != 0) {
    perror("kexec_file_load");
    return 1;
  }
  sync();
  reboot(LINUX_REBOOT_CMD_KEXEC);
  perror("reboot");
  return 1;
}
