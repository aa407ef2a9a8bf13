/**
 * Docker's default seccomp profile (moby/profiles seccomp/default.json) for x86 hosts, as tbuild data: an allowlist
 * whose capability-conditional rules are resolved against the container's capabilities, rendered as the OCI
 * runtime-spec `linux.seccomp` section. Rules for other architectures (arm, s390, ppc, riscv) are left out.
 */

/** SeccompAction is an OCI runtime-spec seccomp action. */
export type SeccompAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_LOG';

/** SeccompArg is one OCI seccomp argument condition. */
export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_GT' | 'SCMP_CMP_GE' | 'SCMP_CMP_MASKED_EQ';
}

/** SeccompRule is one OCI seccomp syscalls entry. */
export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[];
}

/** SeccompSpec is the OCI runtime-spec `linux.seccomp` section. */
export interface SeccompSpec {
  readonly defaultAction: SeccompAction;
  readonly defaultErrnoRet: number;
  readonly architectures: readonly string[];
  readonly syscalls: readonly SeccompRule[];
}

interface ProfileRule extends SeccompRule {
  /** The rule applies only when the container has all of these capabilities. */
  readonly withCaps?: readonly string[];
  /** The rule applies only when the container lacks this capability. */
  readonly withoutCap?: string;
}

const EPERM = 1;
const ENOSYS = 38;
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may not create namespaces without CAP_SYS_ADMIN. */
const CLONE_NAMESPACE_FLAGS = 2114060288;

const ALLOWED = `accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1
epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown
fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64
fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv
futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid
getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday
getuid getuid32 getxattr getxattrat inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl
io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill
landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listmount
listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack
membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect
mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink
mremap mseal msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat
_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll
ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
removexattr removexattrat rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending
rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg
sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid
setsockopt set_thread_area set_tid_address setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown
sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64
statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete
timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink
unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
process_vm_readv process_vm_writev ptrace arch_prctl modify_ldt`;

/** Address families socket() may create beyond those below AF_NETLINK (12), as Docker's profile lists them. */
const SOCKET_FAMILIES_EQ = [13, 14, 15, 16, 17, 18, 21, 22, 24, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 39, 41, 42, 43, 44, 45];
const PERSONALITIES = [0, 8, 131072, 131080, 4294967295];

const allow = (names: readonly string[], extra: Partial<ProfileRule> = {}): ProfileRule => ({ names, action: 'SCMP_ACT_ALLOW', ...extra });
const arg0 = (op: SeccompArg['op'], value: number): SeccompArg[] => [{ index: 0, value, op }];

const PROFILE: readonly ProfileRule[] = [
  allow(ALLOWED.split(/\s+/)),
  allow(['socket'], { args: arg0('SCMP_CMP_LT', 12) }),
  ...SOCKET_FAMILIES_EQ.map((f) => allow(['socket'], { args: arg0('SCMP_CMP_EQ', f) })),
  ...PERSONALITIES.map((p) => allow(['personality'], { args: arg0('SCMP_CMP_EQ', p) })),
  allow(['open_by_handle_at'], { withCaps: ['CAP_DAC_READ_SEARCH'] }),
  allow(
    `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr lsm_list_modules
lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname
setns syslog umount umount2 unshare`.split(/\s+/),
    { withCaps: ['CAP_SYS_ADMIN'] },
  ),
  allow(['clone'], { args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], withoutCap: 'CAP_SYS_ADMIN' }),
  // glibc falls back to clone when clone3 reports ENOSYS, where the flag check above applies.
  { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, withoutCap: 'CAP_SYS_ADMIN' },
  allow(['reboot'], { withCaps: ['CAP_SYS_BOOT'] }),
  allow(['chroot'], { withCaps: ['CAP_SYS_CHROOT'] }),
  allow(['delete_module', 'init_module', 'finit_module'], { withCaps: ['CAP_SYS_MODULE'] }),
  allow(['acct'], { withCaps: ['CAP_SYS_PACCT'] }),
  allow(['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'], { withCaps: ['CAP_SYS_PTRACE'] }),
  allow(['iopl', 'ioperm'], { withCaps: ['CAP_SYS_RAWIO'] }),
  allow(['settimeofday', 'stime', 'clock_settime', 'clock_settime64'], { withCaps: ['CAP_SYS_TIME'] }),
  allow(['vhangup'], { withCaps: ['CAP_SYS_TTY_CONFIG'] }),
  allow(['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'], { withCaps: ['CAP_SYS_NICE'] }),
  allow(['syslog'], { withCaps: ['CAP_SYSLOG'] }),
  allow(['bpf'], { withCaps: ['CAP_BPF'] }),
  allow(['perf_event_open'], { withCaps: ['CAP_PERFMON'] }),
];

/** SECCOMP_ARCHITECTURES are the x86 ABIs the filter covers: x86_64 with its i386 and x32 sub-architectures. */
export const SECCOMP_ARCHITECTURES: readonly string[] = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

/** defaultSeccompProfile returns Docker's default profile for a container holding `capabilities` (its bounding set). */
export function defaultSeccompProfile(capabilities: readonly string[]): SeccompSpec {
  const has = new Set(capabilities);
  const syscalls: SeccompRule[] = [];
  for (const rule of PROFILE) {
    if (rule.withCaps !== undefined && !rule.withCaps.every((c) => has.has(c))) continue;
    if (rule.withoutCap !== undefined && has.has(rule.withoutCap)) continue;
    const { withCaps: _withCaps, withoutCap: _withoutCap, ...oci } = rule;
    syscalls.push(oci);
  }
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: EPERM, architectures: SECCOMP_ARCHITECTURES, syscalls };
}
