# Included by _tracer.pyx (one extension module, split for reading): the C
# half of covcore's SIGTERM handler (covcore/process.py has the Python half).
#
# A Python-level signal handler runs only when the main thread next checks
# for signals.  A SIGTERM that lands after that check but before the main
# thread blocks (in sem_wait, read, select, ...), or on another thread,
# trips CPython's flag and wakes nothing: the process sleeps on, though it
# was told to die (Pool.terminate() then waits forever in join(); the reason
# coverage.py made its handler opt-in, coverage.py issue 1310).  The guard
# sits in front of CPython's C handler: after the first SIGTERM it sends
# SIGTERM again to the main thread every 0.1 s (a POSIX timer), so a
# blocking call returns EINTR and the Python handler runs; once that handler
# starts, the timer stops.  If Python has not run it after 5 s (a long C
# call), the guard gives up and the process dies of SIGTERM's default
# action, as it would without covcore.  Linux only (timer_create with
# SIGEV_THREAD_ID); elsewhere the functions do nothing.

cdef extern from *:
    """
    #if defined(__linux__)
    #include <signal.h>
    #include <time.h>
    #include <errno.h>
    #include <string.h>
    #include <unistd.h>
    #include <sys/syscall.h>
    #ifndef SIGEV_THREAD_ID
    #define SIGEV_THREAD_ID 4
    #endif
    #ifndef sigev_notify_thread_id
    #define sigev_notify_thread_id _sigev_un._tid
    #endif
    #define CC_REPEAT_NS 100000000L  /* 0.1 s between repeats */
    #define CC_GIVE_UP 50            /* repeats before the default action: 5 s */

    static struct sigaction cc_prev;           /* the handler the guard sits in front of */
    static timer_t cc_timer;
    static volatile sig_atomic_t cc_have_timer = 0, cc_armed = 0, cc_handled = 0, cc_repeats = 0;

    static void cc_sigterm(int sig, siginfo_t *info, void *ctx) {
        int saved_errno = errno;
        if (cc_prev.sa_flags & SA_SIGINFO) {
            if (cc_prev.sa_sigaction) cc_prev.sa_sigaction(sig, info, ctx);
        } else if (cc_prev.sa_handler != SIG_DFL && cc_prev.sa_handler != SIG_IGN) {
            cc_prev.sa_handler(sig);
        }
        if (!cc_handled && cc_have_timer) {
            if (!cc_armed) {
                struct itimerspec its;
                memset(&its, 0, sizeof its);
                its.it_value.tv_nsec = CC_REPEAT_NS;
                its.it_interval.tv_nsec = CC_REPEAT_NS;
                cc_armed = 1;
                timer_settime(cc_timer, 0, &its, NULL);
            } else if (++cc_repeats >= CC_GIVE_UP) {
                struct sigaction dfl;
                memset(&dfl, 0, sizeof dfl);
                dfl.sa_handler = SIG_DFL;
                sigemptyset(&dfl.sa_mask);
                sigaction(SIGTERM, &dfl, NULL);
                raise(SIGTERM);  /* blocked in this handler: delivered, fatal, when it returns */
            }
        }
        errno = saved_errno;
    }

    /* Whether SIGTERM's current action is the guard; *cur gets that action. */
    static int cc_is_guard(struct sigaction *cur) {
        memset(cur, 0, sizeof *cur);  /* if sigaction fails: SIG_DFL, no guard */
        if (sigaction(SIGTERM, NULL, cur) != 0) return 0;
        return (cur->sa_flags & SA_SIGINFO) && cur->sa_sigaction == cc_sigterm;
    }

    /* The timer that repeats SIGTERM, aimed at the calling (main) thread. */
    static int cc_make_timer(void) {
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = SIGTERM;
        sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
        if (timer_create(CLOCK_MONOTONIC, &sev, &cc_timer) != 0) return 0;
        cc_have_timer = 1;
        return 1;
    }

    static int cc_guard_install(void) {
        struct sigaction cur, act;
        if (cc_is_guard(&cur)) return 1;
        if (!(cur.sa_flags & SA_SIGINFO) && (cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN)) return 0;
        if (!cc_have_timer && !cc_make_timer()) return 0;
        cc_prev = cur;
        cc_armed = cc_handled = cc_repeats = 0;
        memset(&act, 0, sizeof act);
        act.sa_sigaction = cc_sigterm;
        act.sa_flags = SA_SIGINFO | (cur.sa_flags & SA_ONSTACK);
        sigemptyset(&act.sa_mask);
        return sigaction(SIGTERM, &act, NULL) == 0;
    }

    static void cc_guard_handled(void) {
        struct itimerspec off;
        cc_handled = 1;
        if (cc_have_timer && cc_armed) {
            memset(&off, 0, sizeof off);
            timer_settime(cc_timer, 0, &off, NULL);
        }
        cc_armed = 0;
    }

    static int cc_guard_after_fork_child(void) {
        struct sigaction cur;
        /* timers are not inherited, and the main thread is another one */
        cc_have_timer = 0;
        cc_armed = cc_handled = cc_repeats = 0;
        return cc_is_guard(&cur) && cc_make_timer();
    }

    static int cc_guard_state(void) {
        struct sigaction cur;
        return cc_is_guard(&cur) && cc_have_timer;
    }
    #else
    static int cc_guard_install(void) { return 0; }
    static void cc_guard_handled(void) { }
    static int cc_guard_after_fork_child(void) { return 0; }
    static int cc_guard_state(void) { return 0; }
    #endif
    """
    int cc_guard_install()
    void cc_guard_handled()
    int cc_guard_after_fork_child()
    int cc_guard_state()


def sigterm_guard_install():
    """Put the guard in front of the SIGTERM handler Python just installed
    (call it, in the main thread, right after ``signal.signal(SIGTERM, h)``;
    again after each such call, which replaces the guard).

    :returns: True if the guard is in place (Linux, a Python-level handler
        installed); False otherwise, and then nothing changed.
    """
    return bool(cc_guard_install())


def sigterm_guard_handled():
    """The Python-level SIGTERM handler has started: stop repeating SIGTERM."""
    cc_guard_handled()


def sigterm_guard_after_fork_child():
    """In a forked child (``os.register_at_fork(after_in_child=...)``): make
    the guard's timer again, aimed at this process' thread.

    :returns: True if the guard is in place in the child.
    """
    return bool(cc_guard_after_fork_child())


def sigterm_guard_active():
    """True if SIGTERM goes through the guard and its timer exists."""
    return bool(cc_guard_state())
