"""Tries to write a call it never made into hhttpp's view of strace's report: through every descriptor that strace
and hhttpp (its ancestors, and no others) hold, reopened by /proc/PID/fd/N."""
import os

FAKE = b'1 1.0 connect(3<TCP:[9]>, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("\\x31")}, 16) = 0 <0.1>\n'
reached = 0
pid = os.getppid()
while pid > 1:
    with open("/proc/%d/comm" % pid) as f:
        comm = f.read().strip()
    if comm not in ("strace", "sh", "hhttpp"):
        break  # above hhttpp: the test's own processes, which are none of our business
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        fds = []
    for fd in fds:
        if fd in ("0", "1", "2"):
            continue  # the terminal and the test's own pipes: not a way into hhttpp's report
        try:
            with open("/proc/%d/fd/%s" % (pid, fd), "wb", buffering=0) as f:
                f.write(b"[pid 1] " + FAKE[2:])
                reached += 1
        except OSError:
            pass
    with open("/proc/%d/stat" % pid) as f:
        pid = int(f.read().rsplit(")", 1)[1].split()[1])
print("forger done, wrote into %d descriptors" % reached, flush=True)
