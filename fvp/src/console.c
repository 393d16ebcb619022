/*
 * console.c - polled output on the CMSDK UART0 and small number formatters.
 *
 * Polling (no interrupts, no buffering) keeps the console usable from fault handlers and
 * guarantees every line is out before the simulator is stopped.
 */
#include "byoc_platform.h"
#include "platform_internal.h"

void byoc_console_init(void) {
  /* Any divider >= 16 is valid for the CMSDK UART; simulators ignore the baud rate. */
  BYOC_REG32(UART_BAUDDIV) = 16u;
  BYOC_REG32(UART_CTRL) = 1u; /* TX enable */
}

void byoc_console_putc(char c) {
  while (BYOC_REG32(UART_STATE) & 1u) {
    /* TX buffer full: wait. */
  }
  BYOC_REG32(UART_DATA) = (uint32_t)(uint8_t)c;
}

void byoc_print(const char* s) {
  while (*s != '\0') {
    byoc_console_putc(*s++);
  }
}

void byoc_print_u64(uint64_t value) {
  char buf[21]; /* 2^64 has 20 digits */
  int pos = (int)sizeof(buf) - 1;
  buf[pos] = '\0';
  do {
    buf[--pos] = (char)('0' + (int)(value % 10u));
    value /= 10u;
  } while (value != 0u);
  byoc_print(&buf[pos]);
}

void byoc_print_i32(int32_t value) {
  if (value < 0) {
    byoc_console_putc('-');
    /* Negate in 64 bits so INT32_MIN works. */
    byoc_print_u64((uint64_t)(-(int64_t)value));
  } else {
    byoc_print_u64((uint64_t)value);
  }
}

void byoc_print_hex32(uint32_t value) {
  static const char digits[] = "0123456789abcdef";
  char buf[11];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 8; ++i) {
    buf[2 + i] = digits[(value >> (28 - 4 * i)) & 0xFu];
  }
  buf[10] = '\0';
  byoc_print(buf);
}
