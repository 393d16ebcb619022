/*
 * syscalls.c - the newlib(-nano) system calls a bare-metal firmware needs: stdout/stderr
 * to the UART, a heap between the linker symbols __heap_start/__heap_end, exit via
 * byoc_exit. Everything else reports "not supported" the way newlib expects.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "byoc_platform.h"
#include "platform_internal.h"

#undef errno
extern int errno;

extern uint8_t __heap_start;
extern uint8_t __heap_end;

/* Prototypes: newlib calls these by name; declared here to satisfy -Wmissing-prototypes. */
int _write(int fd, const char* buf, int len);
int _read(int fd, char* buf, int len);
int _close(int fd);
int _fstat(int fd, struct stat* st);
int _isatty(int fd);
int _lseek(int fd, int offset, int whence);
void* _sbrk(intptr_t increment);
void _exit(int code) __attribute__((noreturn));
int _kill(int pid, int sig);
int _getpid(void);

int _write(int fd, const char* buf, int len) {
  if (fd != 1 && fd != 2) {
    errno = EBADF;
    return -1;
  }
  for (int i = 0; i < len; ++i) {
    byoc_console_putc(buf[i]);
  }
  return len;
}

int _read(int fd, char* buf, int len) {
  (void)fd;
  (void)buf;
  (void)len;
  return 0; /* no input: end of file */
}

int _close(int fd) {
  (void)fd;
  errno = EBADF;
  return -1;
}

int _fstat(int fd, struct stat* st) {
  (void)fd;
  st->st_mode = S_IFCHR; /* character device: newlib line-buffers stdout */
  return 0;
}

int _isatty(int fd) { return fd >= 0 && fd <= 2; }

int _lseek(int fd, int offset, int whence) {
  (void)fd;
  (void)offset;
  (void)whence;
  return 0;
}

void* _sbrk(intptr_t increment) {
  static uint8_t* brk = &__heap_start;
  if (increment > (intptr_t)(&__heap_end - brk) || increment < (intptr_t)(&__heap_start - brk)) {
    errno = ENOMEM;
    return (void*)-1;
  }
  uint8_t* previous = brk;
  brk += increment;
  return previous;
}

void _exit(int code) { byoc_exit(code); }

int _kill(int pid, int sig) {
  (void)pid;
  (void)sig;
  errno = EINVAL;
  return -1;
}

int _getpid(void) { return 1; }
