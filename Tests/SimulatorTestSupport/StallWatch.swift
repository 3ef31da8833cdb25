import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A diagnostic for the test process: with `LONGHORN_DR_STALL_DUMP=FOLDER`, a plain thread (not
/// one of Swift's cooperative pool) schedules a task on the pool twice a second; when none has
/// run for 5 s, the pool is stalled, and every thread's backtrace (gdb) goes to
/// `FOLDER/stall-PID-N.txt`, at most three times. Off without the variable.
public enum StallWatch {
    public static let started: Bool = {
        guard let folder = ProcessInfo.processInfo.environment["LONGHORN_DR_STALL_DUMP"], !folder.isEmpty else { return false }
        let lastRun = LastRun()
        Thread.detachNewThread {
            var dumps = 0
            while dumps < 3 {
                Thread.sleep(forTimeInterval: 0.5)
                Task.detached { lastRun.mark() }
                let lag = ContinuousClock.now - lastRun.time
                guard lag > .seconds(5) else { continue }
                dumps += 1
                let file = "\(folder)/stall-\(getpid())-\(dumps).txt"
                let script = "date > \(file); gdb -p \(getpid()) -batch -ex 'thread apply all bt' >> \(file) 2>&1"
                var pid: pid_t = 0
                let arguments = ["/bin/sh", "-c", script]
                var argv = arguments.map { strdup($0) } + [nil]
                defer { for pointer in argv { free(pointer) } }
                if posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0 {
                    var status: Int32 = 0
                    waitpid(pid, &status, 0)
                }
                // Wait for the pool to come back before looking again.
                while ContinuousClock.now - lastRun.time > .seconds(5) { Thread.sleep(forTimeInterval: 0.5) }
            }
        }
        return true
    }()
}

/// When a task last ran on the pool.
private final class LastRun: Sendable {
    private let value = Mutex(ContinuousClock.now)
    func mark() { value.withLock { $0 = .now } }
    var time: ContinuousClock.Instant { value.withLock { $0 } }
}
