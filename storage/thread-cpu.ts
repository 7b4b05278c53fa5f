import { readFileSync, readlinkSync } from "node:fs";

/**
 * CPU time of one thread of this process, from Linux's /proc (the event loop and the writer thread
 * are separate OS threads; `process.cpuUsage()` only sees the whole process). Elsewhere undefined.
 */

/** The OS thread id of the calling thread (`/proc/thread-self` → `<pid>/task/<tid>`). */
export function currentOsThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Seconds on CPU of thread `tid` of process `pid` (this one by default): schedstat's nanoseconds,
 * else stat's clock ticks.
 */
export function threadCpuSeconds(tid: number, pid: number | "self" = "self"): number | undefined {
  try {
    const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    if (ns > 0) return ns / 1e9;
    return statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
  } catch {
    return undefined;
  }
}

/** Seconds on CPU of a whole process, all its threads (those that ended included). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    return statCpuSeconds(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
}

/** utime + stime of a /proc stat file, in clock ticks of USER_HZ (100 on Linux). */
function statCpuSeconds(file: string): number {
  const fields = readFileSync(file, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
