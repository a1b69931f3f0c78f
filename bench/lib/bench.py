#!/usr/bin/env python3
"""qkiosk benchmark driver (called by bench/run.sh).

Runs qkiosk, clamscan and clamd+clamdscan on the same corpus with the same
signatures, the same scan limits and the same CPUs, N times each, and prints
a Markdown table of medians.  Raw numbers go to OUT.json next to OUT.

Memory is measured two ways:
  * "max RSS": /usr/bin/time -v's "Maximum resident set size", which is the
    peak of the single largest process (for qkiosk: of the largest of
    qkiosk / qkiosk-reader / qkiosk-scanner, not their sum);
  * "peak total": a sampler reads /proc every 100 ms, finds every process in
    the tool's process tree, and sums Pss_Anon + Pss_File from
    /proc/PID/smaps_rollup (proportional set size, so shared pages are not
    counted twice), then adds the size of every memfd and /dev/shm file that
    one of those processes holds open or mapped (found through /proc/PID/fd
    and /proc/PID/maps, counted once per inode).  Such tmpfs pages are RAM but
    appear in no RSS unless mapped: qkiosk hands every file to its scanner in
    a sealed memfd, and all three tools extract archives into a temporary
    directory on /dev/shm here.  Samples can miss a peak shorter than 100 ms.
  The sampler also compares the machine's busy CPU time (/proc/stat) with the
  CPU time of the measured processes, so that a run disturbed by something
  else on the machine is flagged.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

MiB = 1024 * 1024

# The scan limits, identical for the three tools: qkiosk's defaults
# (scanner/engine/ClamavEngine.h).
LIMITS = {"max_filesize_mib": 1024, "max_scansize_mib": 2047, "max_recursion": 17,
          "max_files": 10000, "max_scantime_ms": 300000}


def clamscan_limit_args():
    L = LIMITS
    return [f"--max-filesize={L['max_filesize_mib']}M", f"--max-scansize={L['max_scansize_mib']}M",
            f"--max-recursion={L['max_recursion']}", f"--max-files={L['max_files']}",
            f"--max-scantime={L['max_scantime_ms']}",
            # qkiosk's scan options (ClamavEngine::scan): all matches, heuristics,
            # alert on exceeded limits and encrypted archives/documents.
            "--allmatch=yes", "--heuristic-alerts=yes", "--alert-exceeds-max=yes",
            "--alert-encrypted-archive=yes", "--alert-encrypted-doc=yes"]


def clamd_conf(tmp, sigs):
    L = LIMITS
    return f"""# private clamd for the qkiosk benchmark
LocalSocket {tmp}/clamd.sock
FixStaleSocket yes
PidFile {tmp}/clamd.pid
TemporaryDirectory {tmp}/scantmp
DatabaseDirectory {sigs}
LogFile {tmp}/clamd.log
LogTime yes
Foreground yes
MaxThreads 3
MaxQueue 200
ReadTimeout 300
CommandReadTimeout 30
SelfCheck 0
ConcurrentDatabaseReload no
DisableCache yes
MaxFileSize {L['max_filesize_mib']}M
MaxScanSize {L['max_scansize_mib']}M
MaxRecursion {L['max_recursion']}
MaxFiles {L['max_files']}
MaxScanTime {L['max_scantime_ms']}
HeuristicAlerts yes
AlertExceedsMax yes
AlertEncryptedArchive yes
AlertEncryptedDoc yes
"""


# ------------------------------------------------------------ sampling --
def read_meminfo_kb(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def proc_table():
    """pid -> (ppid, comm)"""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        r = s.rfind(")")
        comm = s[s.find("(") + 1:r]
        ppid = int(s[r + 2:].split()[1])
        out[int(d)] = (ppid, comm)
    return out


def shm_objects(pid, acc):
    """memfds and /dev/shm files that pid has open or mapped: (dev, ino) -> bytes."""
    def add(path):
        try:
            st = os.stat(path)
        except OSError:
            return
        acc[(st.st_dev, st.st_ino)] = st.st_blocks * 512
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith(("/memfd:", "/dev/shm/")):
                add(f"/proc/{pid}/fd/{fd}")
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and parts[5].startswith(("/memfd:", "/dev/shm/")):
                    add(f"/proc/{pid}/map_files/{parts[0]}")
    except OSError:
        pass


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    p = s[s.rfind(")") + 2:].split()
    return (int(p[11]) + int(p[12])) / TICK          # utime + stime of the process itself


def cpu_busy_s():
    """CPU time this machine spent running anything (user+nice+system+irq+softirq;
    not idle, iowait or steal)."""
    with open("/proc/stat") as f:
        p = f.readline().split()[1:]
    v = [int(x) for x in p] + [0] * 8
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / TICK


def wait_idle(limit_s=120, window=2.0, max_cores=0.15):
    """Wait until the machine is quiet (another build or test suite running
    would distort the numbers); gives up after limit_s."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        b = cpu_busy_s()
        time.sleep(window)
        if (cpu_busy_s() - b) / window < max_cores:
            return time.monotonic() - t0
    return None


def rollup_kb(pid):
    vals = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                p = line.split()
                if len(p) >= 2 and p[0].endswith(":"):
                    try:
                        vals[p[0][:-1]] = int(p[1])
                    except ValueError:
                        pass
    except OSError:
        return None
    return vals


class Sampler(threading.Thread):
    IGNORE = {"time"}                  # /usr/bin/time wrapper

    def __init__(self, interval=0.1):
        super().__init__(daemon=True)
        self.roots = set()
        self.interval = interval
        self.stop_ev = threading.Event()
        self.shmem0 = read_meminfo_kb("Shmem")
        self.peak_total_kb = 0         # sum Pss_Anon+Pss_File + tmpfs objects held
        self.peak_rss_sum_kb = 0       # sum of RSS (double counts shared pages)
        self.peak_shmem_kb = 0         # memfd/tmpfs objects the tree holds open or mapped
        self.peak_sys_shmem_kb = 0     # growth of system-wide Shmem (any process)
        self.cpu_by_pid = {}
        self.busy0 = cpu_busy_s()
        self.own_cpu = 0.0
        self.peak_by_comm = {}         # comm -> peak RSS kB of one process
        self.peak_procs = 0
        self.samples = 0

    def add_root(self, pid):
        self.roots.add(pid)

    def sample(self):
        tab = proc_table()
        kids = {}
        for pid, (pp, _) in tab.items():
            kids.setdefault(pp, []).append(pid)
        todo = [r for r in self.roots if r in tab]
        tree = []
        while todo:
            p = todo.pop()
            tree.append(p)
            todo.extend(kids.get(p, []))
        pss = rss = 0
        n = 0
        shm = {}
        for p in tree:
            comm = tab[p][1]
            if comm in self.IGNORE:
                continue
            v = rollup_kb(p)
            if not v:
                continue
            n += 1
            pss += v.get("Pss_Anon", 0) + v.get("Pss_File", 0)
            rss += v.get("Rss", 0)
            self.peak_by_comm[comm] = max(self.peak_by_comm.get(comm, 0), v.get("Rss", 0))
            shm_objects(p, shm)
            cpu = proc_cpu_s(p)
            if cpu is not None:
                self.cpu_by_pid[p] = (comm, cpu)
        shm_kb = sum(shm.values()) // 1024
        self.peak_total_kb = max(self.peak_total_kb, pss + shm_kb)
        self.peak_rss_sum_kb = max(self.peak_rss_sum_kb, rss)
        self.peak_shmem_kb = max(self.peak_shmem_kb, shm_kb)
        self.peak_sys_shmem_kb = max(self.peak_sys_shmem_kb, read_meminfo_kb("Shmem") - self.shmem0)
        self.peak_procs = max(self.peak_procs, n)
        self.samples += 1

    def run(self):
        while not self.stop_ev.is_set():
            try:
                self.sample()
            except Exception:          # a process vanishing mid-read
                pass
            self.own_cpu = time.thread_time()
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        self.join()
        busy = cpu_busy_s() - self.busy0
        tool = sum(c for _, c in self.cpu_by_pid.values())
        by_comm = {}
        for comm, c in self.cpu_by_pid.values():
            by_comm[comm] = round(by_comm.get(comm, 0) + c, 2)
        return {"peak_total_mib": self.peak_total_kb / 1024, "peak_rss_sum_mib": self.peak_rss_sum_kb / 1024,
                "peak_shmem_mib": self.peak_shmem_kb / 1024, "peak_sys_shmem_growth_mib": self.peak_sys_shmem_kb / 1024,
                "machine_busy_cpu_s": round(busy, 2), "tool_cpu_sampled_s": round(tool, 2),
                "sampler_cpu_s": round(self.own_cpu, 2), "cpu_by_process_s": by_comm,
                "background_cpu_s": round(max(0.0, busy - tool - self.own_cpu), 2),
                "samples": self.samples,
                "peak_procs": self.peak_procs,
                "peak_rss_by_process_mib": {k: round(v / 1024, 1) for k, v in sorted(self.peak_by_comm.items())}}


# --------------------------------------------------------- GNU time -v --
def parse_time_v(path):
    out = {}
    try:
        with open(path) as f:
            txt = f.read()
    except OSError:
        return out
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt)
    if m:
        out["max_rss_mib"] = int(m.group(1)) / 1024
    u = re.search(r"User time \(seconds\): ([\d.]+)", txt)
    s = re.search(r"System time \(seconds\): ([\d.]+)", txt)
    if u and s:
        out["cpu_s"] = float(u.group(1)) + float(s.group(1))
    m = re.search(r"Exit status: (\d+)", txt)
    if m:
        out["exit"] = int(m.group(1))
    return out


class Runner:
    def __init__(self, a):
        self.a = a
        self.cpus = a.cpus
        self.shmtmp = tempfile.mkdtemp(prefix="qkbench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.tmp = tempfile.mkdtemp(prefix="qkbench-")

    def cleanup(self):
        shutil.rmtree(self.shmtmp, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wrap(self, argv, timefile):
        pre = ["/usr/bin/time", "-v", "-o", timefile]
        if self.cpus and shutil.which("taskset"):
            pre = ["taskset", "-c", self.cpus] + pre
        return pre + argv

    def prepare_cache(self, paths):
        if self.a.cold:
            subprocess.run(["sync"])
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
            return
        # warm: read everything once so every tool reads from the page cache
        for p in paths:
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    while f.read(8 * MiB):
                        pass
            else:
                for dp, _, fn in os.walk(p):
                    for x in fn:
                        with open(os.path.join(dp, x), "rb") as f:
                            while f.read(8 * MiB):
                                pass

    def timed(self, argv, stdout_path, env=None):
        """Run argv under /usr/bin/time -v with the sampler; returns dict."""
        tf = os.path.join(self.tmp, "time.txt")
        errp = stdout_path + ".stderr"
        s = Sampler()
        t0 = time.monotonic()
        with open(stdout_path, "wb") as so, open(errp, "wb") as se:
            p = subprocess.Popen(self.wrap(argv, tf), stdout=so, stderr=se, env=env)
            s.add_root(p.pid)
            s.start()
            rc = p.wait()
        wall = time.monotonic() - t0
        mem = s.stop()
        r = {"wall_s": wall, "rc": rc}
        r.update(parse_time_v(tf))
        r.update(mem)
        with open(errp, "rb") as f:
            r["stderr_tail"] = f.read()[-2000:].decode(errors="replace")
        return r

    # -------------------------------------------------------- the tools --
    def run_clamscan(self, sigs, tree, outp):
        empty = os.path.join(self.tmp, "empty.file")
        open(empty, "w").close()
        tmpd = os.path.join(self.shmtmp, "clamscan")
        os.makedirs(tmpd, exist_ok=True)
        common = ["clamscan", "--no-summary", f"--tempdir={tmpd}"] + clamscan_limit_args() + ["-d", sigs]
        load = self.timed(common + [empty], outp + ".load")
        self.prepare_cache([tree])
        r = self.timed(common + ["-r", tree], outp)
        r["load_s"] = load["wall_s"]
        r["load_how"] = "wall time of clamscan on an empty file"
        r["scan_s"] = max(1e-9, r["wall_s"] - r["load_s"])
        r["verdict_s"] = r["wall_s"]
        r["findings"] = parse_clam_output(outp, tree)
        r["verdict"] = "fail" if r["rc"] == 1 else ("pass" if r["rc"] == 0 else "error")
        return r

    def run_clamd(self, sigs, tree, outp):
        d = tempfile.mkdtemp(prefix="clamd-", dir=self.shmtmp)
        os.makedirs(os.path.join(d, "scantmp"))
        conf = os.path.join(d, "clamd.conf")
        with open(conf, "w") as f:
            f.write(clamd_conf(d, sigs))
        sock = os.path.join(d, "clamd.sock")
        tf = os.path.join(self.tmp, "clamd-time.txt")
        self.prepare_cache([tree])
        s = Sampler()
        t0 = time.monotonic()
        errf = open(outp + ".clamd.stderr", "wb")
        p = subprocess.Popen(self.wrap(["clamd", "-c", conf], tf), stdout=errf, stderr=errf)
        s.add_root(p.pid)
        s.start()
        load = None
        while time.monotonic() - t0 < 600:
            if p.poll() is not None:
                break
            if clamd_cmd(sock, b"zPING\0", timeout=1) == "PONG":
                load = time.monotonic() - t0
                break
            time.sleep(0.01)
        if load is None:
            s.stop()
            p.kill()
            p.wait()
            errf.close()
            raise RuntimeError(f"clamd did not answer PING; see {outp}.clamd.stderr and {d}/clamd.log")
        t1 = time.monotonic()
        with open(outp, "wb") as so, open(outp + ".stderr", "wb") as se:
            argv = ["clamdscan", "-c", conf, "--multiscan", "--fdpass", "--allmatch", "--no-summary", tree]
            if self.cpus and shutil.which("taskset"):
                argv = ["taskset", "-c", self.cpus] + argv
            q = subprocess.Popen(argv, stdout=so, stderr=se)
            s.add_root(q.pid)
            rc = q.wait()
        scan = time.monotonic() - t1
        clamd_cmd(sock, b"zSHUTDOWN\0", timeout=5)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.terminate()
            p.wait()
        errf.close()
        mem = s.stop()
        r = {"rc": rc, "load_s": load, "load_how": "clamd start until the socket answers PING",
             "scan_s": scan, "verdict_s": load + scan, "wall_s": load + scan}
        r.update(parse_time_v(tf))       # clamd's own max RSS and CPU (load + scan)
        r.update(mem)
        with open(outp + ".stderr", "rb") as f:
            r["stderr_tail"] = f.read()[-2000:].decode(errors="replace")
        r["findings"] = parse_clam_output(outp, tree)
        r["verdict"] = "fail" if rc == 1 else ("pass" if rc == 0 else "error")
        shutil.copy(os.path.join(d, "clamd.log"), outp + ".clamd.log")
        shutil.rmtree(d, ignore_errors=True)
        return r

    def run_qkiosk(self, sigs, corpus, outp):
        q = self.a.qkiosk
        img = os.path.join(corpus, "stick.img")
        empty = os.path.join(corpus, "empty.img")
        env = dict(os.environ, TMPDIR=self.shmtmp)
        load = self.timed([q, "scan", "--image", empty, "--db", sigs, "--json", "-"], outp + ".load", env=env)
        self.prepare_cache([img])
        r = self.timed([q, "scan", "--image", img, "--db", sigs, "--json", "-"], outp, env=env)
        rep = read_json(outp)
        r["report"] = {k: rep.get(k) for k in ("verdict", "files_scanned", "bytes_scanned", "engine", "media",
                                              "started", "finished", "timing")} if rep else None
        lt = load_time_from_report(rep)
        if lt is None:
            lt = load_time_from_report(read_json(outp + ".load"))
        if lt is not None:
            r["load_s"], r["load_how"] = lt, "reported by qkiosk"
        else:
            r["load_s"] = load["wall_s"]
            r["load_how"] = "wall time of qkiosk scan of an empty FAT32 image"
        r["load_run"] = {"wall_s": load["wall_s"], "rc": load["rc"], "max_rss_mib": load.get("max_rss_mib"),
                         "peak_total_mib": load.get("peak_total_mib")}
        r["scan_s"] = max(1e-9, r["wall_s"] - r["load_s"])
        r["verdict_s"] = r["wall_s"]
        r["findings"], r["other_reasons"] = parse_qkiosk(rep)
        r["verdict"] = (rep or {}).get("verdict") or ("error rc=%d" % r["rc"])
        r["files_scanned"] = (rep or {}).get("files_scanned")
        r["files_total"] = (rep or {}).get("files_total")
        return r


def clamd_cmd(sock, cmd, timeout=1.0):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(sock)
            s.sendall(cmd)
            data = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
                if data.endswith(b"\0"):
                    break
            return data.rstrip(b"\0").decode(errors="replace").strip()
    except OSError:
        return None


def read_json(path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read() or b"null")
    except (OSError, ValueError):
        return None


def load_time_from_report(rep):
    """qkiosk may report its engine load time; accept a few plausible keys."""
    if not isinstance(rep, dict):
        return None
    for holder in (rep.get("timing") or {}, rep.get("engine") or {}):
        for k, scale in (("load_ms", 1e-3), ("engine_load_ms", 1e-3), ("load_s", 1.0), ("engine_load_s", 1.0)):
            if isinstance(holder.get(k), (int, float)):
                return holder[k] * scale
    return None


FOUND = re.compile(r"^(.*): (\S+) FOUND$")


def norm_sig(s):
    return s[:-len(".UNOFFICIAL")] if s.endswith(".UNOFFICIAL") else s


def parse_clam_output(path, tree):
    found = set()
    tree = tree.rstrip("/") + "/"
    with open(path, errors="replace") as f:
        for line in f:
            m = FOUND.match(line.rstrip("\n"))
            if m:
                p = m.group(1)
                if p.startswith(tree):
                    p = p[len(tree):]
                found.add((p, norm_sig(m.group(2))))
    return sorted(found)


def parse_qkiosk(rep):
    found, other = set(), []
    if not isinstance(rep, dict):
        return [], ["no JSON report"]
    for r in rep.get("reasons") or []:
        path = r.get("path") or ""
        top = re.sub(r"^/p\d+/", "", path).split("!", 1)[0]
        if r.get("code") == "infected":
            found.add((top, norm_sig(r.get("detail") or "")))
        else:
            other.append(f"{r.get('code')}: {path} {r.get('detail', '')}".strip())
    return sorted(found), other


# ------------------------------------------------------------ reporting --
def med(runs, key):
    v = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
    return statistics.median(v) if v else None


def fmt(v, nd=1):
    return "–" if v is None else f"{v:.{nd}f}"


def machine_info():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = read_meminfo_kb("MemTotal") / 1024 / 1024
    clam = subprocess.run(["clamscan", "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(mem, 1), "kernel": platform.release(),
            "clamav": clam}


def sig_count(d):
    n = 0
    for f in sorted(os.listdir(d)):
        if f.endswith((".hdb", ".ndb", ".hsb", ".ldb", ".mdb", ".msb")):
            with open(os.path.join(d, f), "rb") as fh:
                n += sum(1 for line in fh if line.strip() and not line.startswith(b"#"))
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus")
    ap.add_argument("--sigs", help="a signature dir, or a dir holding small/ and large/")
    ap.add_argument("--out")
    ap.add_argument("--report", nargs="+", help="only render the table of earlier runs' OUT.json (later files "
                    "replace the cells they hold)")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--tools", default="qkiosk,clamscan,clamd")
    ap.add_argument("--qkiosk", default="qkiosk")
    ap.add_argument("--cpus", default="0-1", help="taskset CPU list used for every tool ('' = no pinning)")
    ap.add_argument("--cold", action="store_true", help="drop the page cache before every run (root)")
    ap.add_argument("--retries", type=int, default=2, help="re-run a run disturbed by other processes")
    ap.add_argument("--no-wait-idle", dest="wait_idle", action="store_false",
                    help="do not wait for the machine to be idle before each run")
    a = ap.parse_args()

    if a.report:
        # several files: cells (signature set, tool) of later files replace earlier ones
        raw = read_json(a.report[0])
        for extra in a.report[1:]:
            more = read_json(extra)
            for k, v in more["results"].items():
                if v:
                    raw["results"][k] = v
            if more.get("qkiosk"):
                raw["qkiosk"] = more["qkiosk"]
        if a.sigs and not raw.get("sets"):
            sg = os.path.abspath(a.sigs)
            raw["sets"] = [[n, os.path.join(sg, n), sig_count(os.path.join(sg, n))] for n in ("small", "large")
                           if os.path.isdir(os.path.join(sg, n))]
        if a.corpus and not raw.get("corpus_dir"):
            raw["corpus_dir"] = os.path.abspath(a.corpus)
        table = render(raw)
        print(table)
        if a.out:
            with open(a.out, "w") as f:
                f.write(table)
        return 0

    corpus = os.path.abspath(a.corpus)
    tree = os.path.join(corpus, "tree")
    meta = read_json(os.path.join(corpus, "corpus.json"))
    if not meta or not os.path.isdir(tree) or not os.path.isfile(os.path.join(corpus, "stick.img")):
        print(f"run.sh: {corpus}: not a corpus (run make-corpus.sh first)", file=sys.stderr)
        return 2
    sigs = os.path.abspath(a.sigs)
    if os.path.isdir(os.path.join(sigs, "small")) or os.path.isdir(os.path.join(sigs, "large")):
        sets = [(n, os.path.join(sigs, n)) for n in ("small", "large") if os.path.isdir(os.path.join(sigs, n))]
    else:
        sets = [(os.path.basename(sigs.rstrip("/")), sigs)]
    tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    qk_ok = os.access(a.qkiosk, os.X_OK)
    if "qkiosk" in tools and not qk_ok:
        print(f"run.sh: {a.qkiosk}: not built; qkiosk row will be 'pending'", file=sys.stderr)
    expected = sorted((i["path"], i["signature"]) for i in meta.get("infected", []))
    content = meta["bytes"]
    rawdir = os.path.splitext(os.path.abspath(a.out))[0] + ".raw"
    os.makedirs(rawdir, exist_ok=True)

    R = Runner(a)
    qk_info = None
    if "qkiosk" in tools and qk_ok:
        # Run a private copy: the build directory may be rebuilt during the benchmark.
        snap = os.path.join(R.tmp, "qkiosk-bin")
        os.makedirs(snap)
        src = os.path.dirname(os.path.abspath(a.qkiosk))
        qk_info = {"source": src, "sha256": {}}
        for exe in ("qkiosk", "qkiosk-reader", "qkiosk-scanner"):
            shutil.copy2(os.path.join(src, exe), os.path.join(snap, exe))
            qk_info["sha256"][exe] = subprocess.run(["sha256sum", os.path.join(snap, exe)], capture_output=True,
                                                    text=True).stdout.split()[0][:16]
        try:
            repo = os.path.dirname(os.path.dirname(src))
            qk_info["git"] = subprocess.run(["git", "-C", repo, "log", "-1", "--format=%h %s"], capture_output=True,
                                            text=True).stdout.strip()[:100]
            dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True).stdout.strip()
            if dirty:
                qk_info["git"] += " + uncommitted changes"
            cache = os.path.join(os.path.dirname(src), "CMakeCache.txt")
            with open(cache) as f:
                m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", f.read(), re.M)
                qk_info["build_type"] = m.group(1) if m else "?"
        except OSError:
            pass
        a.qkiosk = os.path.join(snap, "qkiosk")
    results = {}
    t_start = time.monotonic()
    try:
        for sname, sdir in sets:
            for rep in range(a.runs):
                for tool in tools:
                    key = (sname, tool)
                    outp = os.path.join(rawdir, f"{sname}-{tool}-{rep + 1}.out")
                    if tool == "qkiosk" and not qk_ok:
                        results.setdefault(key, [])
                        continue
                    for attempt in range(1 + a.retries):
                        waited = wait_idle() if a.wait_idle else 0
                        print(f"run.sh: [{time.monotonic() - t_start:6.0f} s] {sname} sigs, {tool}, run {rep + 1}/{a.runs}"
                              + (f" (retry {attempt})" if attempt else "")
                              + (" (machine not idle)" if waited is None else ""),
                              file=sys.stderr, flush=True)
                        try:
                            if tool == "clamscan":
                                r = R.run_clamscan(sdir, tree, outp)
                            elif tool == "clamd":
                                r = R.run_clamd(sdir, tree, outp)
                            elif tool == "qkiosk":
                                r = R.run_qkiosk(sdir, corpus, outp)
                            else:
                                raise ValueError(f"unknown tool {tool}")
                        except Exception as e:  # keep going; the table says what failed
                            r = {"error": str(e), "verdict": "error", "findings": []}
                        bg = r.get("background_cpu_s")
                        r["disturbed"] = bool(bg is not None and r.get("wall_s") and
                                              bg > 0.10 * r["wall_s"] * (os.cpu_count() or 1))
                        r["attempt"] = attempt + 1
                        if not r["disturbed"]:
                            break
                        print(f"run.sh:   disturbed: other processes used {bg:.0f} CPU s", file=sys.stderr, flush=True)
                    r["mb_s"] = content / MiB / r["scan_s"] if r.get("scan_s") else None
                    r["agree"] = (r.get("findings") == expected)
                    if tool == "qkiosk" and r.get("files_total") is not None:
                        # every file of the corpus found, and each one either scanned or
                        # named in an unscannable reason (e.g. a limit); no aborted scan
                        unsc = {re.sub(r"^/p\d+/", "", o.split(" ", 2)[1]).split("!", 1)[0]
                                for o in r.get("other_reasons", []) if o.startswith("unscannable: /p")}
                        stopped = any(o.startswith("unscannable: / ") for o in r.get("other_reasons", []))
                        r["complete"] = (r["files_total"] == meta["files"] and not stopped and
                                         r["files_scanned"] + len(unsc) >= meta["files"])
                    results.setdefault(key, []).append(r)
                    print(f"run.sh:   wall {fmt(r.get('wall_s'))} s, load {fmt(r.get('load_s'))} s, "
                          f"{fmt(r.get('mb_s'))} MB/s, max RSS {fmt(r.get('max_rss_mib'), 0)} MiB, "
                          f"total {fmt(r.get('peak_total_mib'), 0)} MiB, verdict {r.get('verdict')}, "
                          f"findings {r.get('findings')}", file=sys.stderr, flush=True)
    finally:
        R.cleanup()

    info = machine_info()
    raw = {"machine": info, "corpus": meta, "corpus_dir": corpus, "limits": LIMITS, "runs": a.runs, "cpus": a.cpus,
           "cold": a.cold, "qkiosk": qk_info, "qkiosk_built": qk_ok, "tools": tools,
           "sets": [[n, d, sig_count(d)] for n, d in sets],
           "results": {f"{k[0]}/{k[1]}": v for k, v in results.items()}}
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump(raw, f, indent=1, default=str)
    table = render(raw)
    print(table)
    with open(a.out, "w") as f:
        f.write(table)
    ok = all(r.get("agree") for v in results.values() for r in v)
    return 0 if ok else 1


TOOL_NAMES = {"clamscan": "clamscan (1 thread)", "clamd": "clamd + clamdscan --multiscan (MaxThreads 3)",
              "qkiosk": "qkiosk scan --image"}


def render(raw):
    """The Markdown report of one benchmark (also: bench.py --report RAW.json)."""
    meta, info = raw["corpus"], raw["machine"]
    content = meta["bytes"]
    corpus = raw.get("corpus_dir", "?")
    expected = sorted((i["path"], i["signature"]) for i in meta.get("infected", []))
    expected = [list(e) for e in expected]
    results = {tuple(k.split("/", 1)): v for k, v in raw["results"].items()}
    tools = raw.get("tools") or list(dict.fromkeys(k[1] for k in results))
    sets = raw.get("sets") or [[n, None, None] for n in dict.fromkeys(k[0] for k in results)]
    qk_info = raw.get("qkiosk")
    img = os.path.join(corpus, "stick.img")
    img_mib = f"{os.path.getsize(img) / MiB:.0f} MiB" if os.path.exists(img) else "?"
    lines = []
    lines.append(f"Corpus `{corpus}`: {meta['files']} files in {meta['dirs']} folders, "
                 f"{content / MiB:.1f} MiB of file content (largest file {meta['largest_file_bytes'] / MiB:.0f} MiB); "
                 f"FAT32 image `stick.img` {img_mib}.  ")
    lines.append(f"Expected findings: {', '.join(f'`{p}` ({s})' for p, s in expected) or 'none'}.  ")
    lines.append(f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram_gib']} GiB RAM, "
                 f"kernel {info['kernel']}, {info['clamav']}; CPUs pinned: {raw.get('cpus') or 'no'}; "
                 f"page cache: {'dropped before each run' if raw.get('cold') else 'warm'}; "
                 f"runs per cell: {raw.get('runs')} (median of the undisturbed runs shown).  ")
    if qk_info:
        lines.append(f"qkiosk: {qk_info.get('build_type', '?')} build of `{qk_info.get('git', '?')}` "
                     f"(qkiosk-scanner {qk_info['sha256']['qkiosk-scanner']}…).")
    lines.append("")
    lines.append("| sigs | tool | load s | scan s | time to verdict s (min–max) | MB/s | CPU s | "
                 "max RSS MiB (largest process) | peak total MiB (sampled) | verdict | findings agree |")
    lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    any_dagger = False
    for sname, _sdir, count in sets:
        label = f"{sname} ({count:,})" if count else sname
        for tool in tools:
            allruns = results.get((sname, tool), [])
            runs = [r for r in allruns if "error" not in r]
            errs = [r for r in allruns if "error" in r]
            name = TOOL_NAMES.get(tool, tool)
            if not runs:
                why = "pending (not built)" if tool == "qkiosk" and not raw.get("qkiosk_built", True) else \
                    ("error: " + errs[0]["error"] if errs else "not run")
                lines.append(f"| {label} | {name} | {why} | | | | | | | | |")
                continue
            quiet = [r for r in runs if not r.get("disturbed")]
            dagger = ""
            if not quiet:
                quiet, dagger, any_dagger = runs, " †", True
            walls = [r["verdict_s"] for r in quiet]
            verdicts = sorted({str(r["verdict"]) for r in runs})
            inc = [r for r in runs if r.get("complete") is False]
            if inc:
                verdicts = [v + f" (INCOMPLETE: {inc[0].get('files_scanned')} of {meta['files']} files scanned)"
                            for v in verdicts]
            agree = all(r["agree"] for r in runs)
            lines.append(
                f"| {label} | {name}{dagger} | {fmt(med(quiet, 'load_s'))} | {fmt(med(quiet, 'scan_s'))} | "
                f"{fmt(statistics.median(walls))} ({fmt(min(walls))}–{fmt(max(walls))}) | {fmt(med(quiet, 'mb_s'))} | "
                f"{fmt(med(quiet, 'cpu_s'))} | {fmt(med(quiet, 'max_rss_mib'), 0)} | "
                f"{fmt(med(quiet, 'peak_total_mib'), 0)} | {'/'.join(verdicts)} | {'yes' if agree else 'NO'} |")
    lines.append("")
    if any_dagger:
        lines.append("† every run of this cell was disturbed by other processes on the machine (see Notes); "
                     "its times are upper bounds.")
        lines.append("")
    lines.append("load: clamscan = wall time on an empty file; clamd = start until PING answers; qkiosk = "
                 + ("its reported load time" if any(r.get("load_how") == "reported by qkiosk"
                                                     for k, v in results.items() if k[1] == "qkiosk" for r in v)
                    else "wall time of a scan of an empty FAT32 image") +
                 ". scan = time to verdict − load (clamd: clamdscan's wall time). MB/s = file content "
                 f"({content / MiB:.0f} MiB) / scan. CPU s = user+sys of the tool's processes (clamd: load + scan; "
                 "clamdscan not included). max RSS = /usr/bin/time -v (the largest single process). peak total = sum "
                 "of Pss_Anon+Pss_File over the process tree + memfds and /dev/shm files it holds open or mapped "
                 "(temp files of all three tools are on /dev/shm), sampled every 100 ms.")
    notes = []
    for (sname, tool), runs in results.items():
        for i, r in enumerate(runs):
            if r.get("disturbed"):
                notes.append(f"- {sname}/{tool} run {i + 1}: other processes used "
                             f"{r['background_cpu_s']:.0f} CPU s during the run (disturbed)")
            if r.get("complete") is False:
                notes.append(f"- {sname}/{tool} run {i + 1}: qkiosk scanned {r.get('files_scanned')} of "
                             f"{meta['files']} files; its times are not comparable")
            if not r.get("agree"):
                notes.append(f"- {sname}/{tool} run {i + 1}: verdict {r.get('verdict')}, findings "
                             f"{r.get('findings')}, expected {expected}; {r.get('error', '')}")
            other = r.get("other_reasons") or []
            for o in other[:5]:
                notes.append(f"- {sname}/{tool}: other reason: {o}")
            if len(other) > 5:
                notes.append(f"- {sname}/{tool} run {i + 1}: {len(other) - 5} more other reasons")
    if notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(sorted(set(notes)))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
