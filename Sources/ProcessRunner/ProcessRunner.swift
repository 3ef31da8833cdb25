import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One process to run: an executable (already located) with an argument array, never a shell
/// string, and the whole environment it gets.
public struct ProcessRequest: Sendable {
    public enum Output: Sendable {
        /// Kept and returned.
        case capture
        /// Thrown away.
        case discard
        /// Passed to this process's standard error as it comes (an operator watches terraform).
        case standardError
        /// Standard error only: into the same capture as standard output, in order.
        case intoStandardOutput
    }

    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    /// Written to the program's standard input, which then closes; nil: /dev/null.
    public var standardInput: Data?
    public var standardOutput: Output
    public var standardError: Output
    /// Past it the process group is stopped (TERM, then KILL after `grace`) and the outcome says
    /// `timedOut`; nil: no limit but the caller's cancellation.
    public var timeout: Duration?
    /// Between SIGTERM and SIGKILL, on a timeout or when the calling task is cancelled.
    public var grace: Duration
    /// How long to keep reading output once the process exited: a child it left behind may hold
    /// the pipes open. nil: until they close.
    public var drainLimit: Duration?

    public init(
        executable: String, arguments: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment,
        standardInput: Data? = nil, standardOutput: Output = .capture, standardError: Output = .capture, timeout: Duration? = nil,
        grace: Duration = .seconds(30),
        drainLimit: Duration? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.standardInput = standardInput
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.timeout = timeout
        self.grace = grace
        self.drainLimit = drainLimit
    }
}

/// How a process ended.
public struct ProcessOutcome: Sendable {
    /// The exit code, or 128 + the signal that killed it (as shells report it).
    public var status: Int32
    /// The signal that killed it, if one did.
    public var signal: Int32?
    /// The timeout ran out and the group was stopped.
    public var timedOut: Bool
    public var standardOutput: Data
    public var standardError: Data

    public var succeeded: Bool { status == 0 && !timedOut }
}

/// The executable could not be started at all.
public struct ProcessStartError: Error, CustomStringConvertible {
    public var executable: String
    public var reason: String
    /// The errno posix_spawn gave, when it gave one.
    public var code: Int32 = 0
    public var description: String { "cannot start \(executable): \(reason)" }
}

/// The one way this project runs a process: posix_spawn into a process group of its own, the
/// child with default signal handling and nothing blocked; pipes read and the child reaped on
/// threads of their own (never the cooperative pool); a timeout or the caller's cancellation
/// stops the whole group (TERM, then KILL after the grace) and the call returns only once the
/// group is gone, so nothing it started outlives it. Foundation's Process is not used: on Linux
/// it was seen never to report the exit of a command that left a daemon behind.
public enum ProcessRunner {
    /// For a probe that must answer where no task can wait (a static property's first use): the
    /// same start, output to /dev/null, and this thread waits for the exit. Nil when the program
    /// cannot start.
    public static func statusBlocking(_ executable: String, _ arguments: [String]) -> Int32? {
        let request = ProcessRequest(executable: executable, arguments: arguments, standardOutput: .discard, standardError: .discard)
        guard let started = try? Spawn.start(request, inputPipe: false) else { return nil }
        var raw: Int32 = 0
        while waitpid(started.pid, &raw, 0) == -1, errno == EINTR {}
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    public static func run(_ request: ProcessRequest) async throws(ProcessStartError) -> ProcessOutcome {
        let spawned = try Spawn.start(request, inputPipe: request.standardInput != nil)
        if let input = request.standardInput { InputWriter.write(input, to: spawned.input, closing: true) }
        let output = OutputCollector(reading: spawned.output)
        let error = OutputCollector(reading: spawned.error)
        let stop = GroupStop()
        let exit = ExitWaiter()
        let leader = spawned.pid
        Thread.detachNewThread {
            var raw: Int32 = 0
            while waitpid(leader, &raw, 0) == -1, errno == EINTR {}
            exit.finish(raw)
        }
        let timedOut = Flag()
        let grace = request.grace
        let timer = request.timeout.map { timeout in
            Task {
                guard (try? await Task.sleep(for: timeout)) != nil, !exit.hasExited else { return }
                timedOut.set()
                stop.begin(leader, grace: grace)
            }
        }
        let raw = await withTaskCancellationHandler {
            await exit.wait()
        } onCancel: {
            stop.begin(leader, grace: grace)
        }
        timer?.cancel()
        // The leader is gone, but a member that ignores SIGTERM may live on: when the group was
        // stopped, wait for it to end, killing it after the grace.
        await stop.finish(leader, grace: grace)
        await output.drained(within: request.drainLimit)
        await error.drained(within: request.drainLimit)
        // WIFEXITED / WEXITSTATUS, WIFSIGNALED / WTERMSIG, spelled out (they are C macros).
        let exited = raw & 0x7f == 0
        return ProcessOutcome(
            status: exited ? (raw >> 8) & 0xff : 128 + (raw & 0x7f), signal: exited ? nil : raw & 0x7f,
            timedOut: timedOut.isSet, standardOutput: output.collected, standardError: error.collected)
    }
}

/// posix_spawn with the pipes a request asks for. The child leads a process group of its own.
enum Spawn {
    struct Started {
        var pid: pid_t
        /// The write end of the child's standard input, or -1 (then it reads /dev/null).
        var input: Int32
        /// The read ends of its output pipes, or -1 for a stream not captured.
        var output: Int32
        var error: Int32
    }

    /// Held from making the pipes to the spawn: a child spawned by another thread in between
    /// would inherit them before they are marked close-on-exec.
    private static let lock = Mutex(())

    static func start(_ request: ProcessRequest, inputPipe: Bool) throws(ProcessStartError) -> Started {
        // ETXTBSY: the program was written a moment ago and a child some other thread forked
        // meanwhile still holds the writer's descriptor until its own exec. It goes away by itself.
        var attempt = 0
        while true {
            do {
                return try lock.withLock { _ throws(ProcessStartError) in try startLocked(request, inputPipe: inputPipe) }
            } catch  where error.code == ETXTBSY && attempt < 20 {
                attempt += 1
                usleep(25_000)
            }
        }
    }

    private static func startLocked(_ request: ProcessRequest, inputPipe: Bool) throws(ProcessStartError) -> Started {
        // A child that stops reading its input must not kill this process with SIGPIPE; the
        // write fails with EPIPE instead. Children get the default back (below).
        _ = ignoreBrokenPipe
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var inPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        func makePipe(_ ends: inout [Int32]) throws(ProcessStartError) {
            guard pipe(&ends) == 0 else { throw ProcessStartError(executable: request.executable, reason: "cannot make a pipe: errno \(errno)") }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
        func closeAll() { for end in inPipe + outPipe + errPipe where end >= 0 { close(end) } }
        do {
            if inputPipe {
                try makePipe(&inPipe)
                posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
            switch request.standardOutput {
            case .capture, .intoStandardOutput:
                try makePipe(&outPipe)
                posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
            case .discard: posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            case .standardError: posix_spawn_file_actions_adddup2(&actions, 2, 1)
            }
            switch request.standardError {
            case .capture:
                try makePipe(&errPipe)
                posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
            case .intoStandardOutput:
                if outPipe[1] >= 0 { posix_spawn_file_actions_adddup2(&actions, outPipe[1], 2) } else { posix_spawn_file_actions_adddup2(&actions, 1, 2) }
            case .discard: posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            case .standardError: break
            }
        } catch {
            closeAll()
            throw error
        }
        // Every other descriptor of this process stays out of the child. Foundation opens files
        // without O_CLOEXEC (Data.write does), so a child spawned while another thread writes a
        // script would keep that script open for writing for its whole life, and running the
        // script then fails with "Text file busy".
        _ = closeFrom?(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Whatever this process ignores or blocks (SIGPIPE; SIGTERM under some supervisors), the
        // child starts with the defaults, so stopping it works.
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        // A group of its own (pgid = its pid): a terminal's Ctrl-C reaches only this process,
        // which then stops the whole group deliberately.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let argv = ([request.executable] + request.arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let variables = request.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for variable in variables { free(variable) } }
        var pid: pid_t = 0
        // The pipes are close-on-exec: the child keeps only the ends dup2 gave it, and children
        // other threads start do not inherit them (one would hold this child's output open past
        // its end, and the call would wait for its drain limit or for ever).
        let result = posix_spawn(&pid, request.executable, &actions, &attributes, argv, variables)
        for end in [inPipe[0], outPipe[1], errPipe[1]] where end >= 0 { close(end) }
        guard result == 0 else {
            for end in [inPipe[1], outPipe[0], errPipe[0]] where end >= 0 { close(end) }
            throw ProcessStartError(executable: request.executable, reason: String(cString: strerror(result)), code: result)
        }
        return Started(pid: pid, input: inPipe[1], output: outPipe[0], error: errPipe[0])
    }

    private static let ignoreBrokenPipe: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later), which Swift's Glibc
    /// module does not declare; nil on an older C library, where only close-on-exec protects.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
}

/// Writes to a child's standard input off the cooperative pool (a child that does not read
/// would block the write).
enum InputWriter {
    /// Writes all of `data`; stops quietly when the child closed its end (EPIPE).
    @discardableResult
    static func writeAll(_ data: Data, to descriptor: Int32) -> Bool {
        data.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
    }

    static func write(_ data: Data, to descriptor: Int32, closing: Bool) {
        guard descriptor >= 0 else { return }
        Thread.detachNewThread {
            writeAll(data, to: descriptor)
            if closing { close(descriptor) }
        }
    }
}

/// Stopping a process group: SIGTERM to the group, SIGKILL to whatever of it is left after the
/// grace, and `finish` returns only once the group is empty. The group id stays reserved while
/// any member lives, so a late signal cannot reach a stranger.
final class GroupStop: Sendable {
    private let started = Mutex<ContinuousClock.Instant?>(nil)
    /// Set once the group is gone: a late SIGKILL must not reach a group id reused since.
    private let ended = Mutex(false)

    /// SIGTERM now; SIGKILL after `grace` even while the leader still runs (one that ignores
    /// SIGTERM would otherwise never be reaped).
    func begin(_ leader: pid_t, grace: Duration) {
        let first = started.withLock { started -> Bool in
            defer { started = started ?? .now }
            return started == nil
        }
        guard first, !ended.withLock({ $0 }) else { return }
        kill(-leader, SIGTERM)
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        Thread.detachNewThread { [self] in
            Thread.sleep(forTimeInterval: seconds)
            if !ended.withLock({ $0 }), Self.hasLiveMember(leader) { kill(-leader, SIGKILL) }
        }
    }

    /// After the leader was reaped: when the group was stopped, waits until no member of it is
    /// left, sending SIGKILL once the grace is over.
    /// From now on the group id is not ours: nothing more is sent to it.
    func end() { ended.withLock { $0 = true } }

    func finish(_ leader: pid_t, grace: Duration) async {
        defer { end() }
        guard let start = started.withLock({ $0 }) else { return }
        // On a thread of its own: the task may be cancelled, so Task.sleep would not wait.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                let giveUp = start + grace + .seconds(10)
                var killed = false
                while Self.hasLiveMember(leader), ContinuousClock.now < giveUp {
                    if !killed, ContinuousClock.now >= start + grace {
                        kill(-leader, SIGKILL)
                        killed = true
                    }
                    usleep(50_000)
                }
                continuation.resume()
            }
        }
    }

    /// Whether any process of the group still runs. A member killed but not yet reaped (a
    /// zombie, when PID 1 of a container does not reap) no longer counts.
    static func hasLiveMember(_ group: pid_t) -> Bool {
        guard kill(-group, 0) == 0 else { return false }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return true }
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else { continue }
            // After the command name: state, ppid, pgrp, ...
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            if fields.count > 2, pid_t(fields[2]) == group, fields[0] != "Z" { return true }
        }
        return false
    }
}

/// A boolean one task sets and another reads.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// The leader's exit status, reported once to one waiter.
private final class ExitWaiter: Sendable {
    private let state = Mutex<(status: Int32?, waiter: CheckedContinuation<Int32, Never>?)>((nil, nil))

    var hasExited: Bool { state.withLock { $0.status != nil } }

    func finish(_ status: Int32) {
        let waiter = state.withLock { state -> CheckedContinuation<Int32, Never>? in
            state.status = status
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: status)
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state -> Int32? in
                if state.status == nil { state.waiter = continuation }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}

/// Reads one pipe to its end on a thread of its own and keeps what it read (nothing for a
/// stream that was not captured).
private final class OutputCollector: Sendable {
    private let state = Mutex<(data: Data, ended: Bool, waiters: [@Sendable () -> Void])>((Data(), false, []))

    init(reading descriptor: Int32) {
        guard descriptor >= 0 else {
            state.withLock { $0.ended = true }
            return
        }
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                state.withLock { $0.data.append(contentsOf: buffer[0..<count]) }
            }
            close(descriptor)
            let waiters = state.withLock { state -> [@Sendable () -> Void] in
                state.ended = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter() }
        }
    }

    var collected: Data { state.withLock { $0.data } }

    /// Returns once the pipe has ended, or after `limit` (nil: no limit), whichever is first.
    func drained(within limit: Duration?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(continuation)
            let ended = state.withLock { state -> Bool in
                if !state.ended { state.waiters.append { once.resume() } }
                return state.ended
            }
            if ended { return once.resume() }
            if let limit {
                let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { once.resume() }
            }
        }
    }
}

/// Resumes a continuation on the first call and ignores later ones.
private final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>

    init(_ continuation: CheckedContinuation<Void, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume() {
        continuation.withLock { value in
            defer { value = nil }
            return value
        }?.resume()
    }
}
