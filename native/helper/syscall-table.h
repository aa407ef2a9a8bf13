/* Syscall name tables per architecture, generated at build time from the kernel headers. */
#ifndef TBUILD_SYSCALL_TABLE_H
#define TBUILD_SYSCALL_TABLE_H

struct syscall_entry {
  const char *name; /* NULL ends a table */
  long nr;
};

extern const struct syscall_entry syscalls_x86_64[];
extern const struct syscall_entry syscalls_i386[];
extern const struct syscall_entry syscalls_x32[];

#endif
