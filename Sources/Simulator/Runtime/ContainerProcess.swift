import Foundation
import Synchronization

/// The runtime cannot run container commands on this host: neither root nor user namespaces, or no `unshare`.
public struct ContainerRuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Starts one real process for a container command or an exec: `unshare [--user --map-root-user] --mount
/// --propagation private -- mount-exec ROOTFS WORKDIR COUNT [SOURCE TARGET MODE]... COMMAND...` (see
/// ``PodSandbox``), so each volume directory shows at its mountPath for that process only. Arguments are passed as an array; nothing is parsed by a shell
/// except the fixed helper, which receives them as positional parameters.
public final class ContainerProcess: Sendable {
    public enum Output: Sendable, Equatable {
        case stdout(Data)
        case stderr(Data)
        /// The process ended and both pipes are drained: the exit code (128 + signal when killed).
        case exited(Int32)
    }

    /// `Process` and `FileHandle` are used only through thread-safe calls (terminate, write, close);
    /// the box gives them a Sendable home tied to this object's lifetime.
    private final class Handles: @unchecked Sendable {
        let process: Process
        let stdin: FileHandle?
        init(process: Process, stdin: FileHandle?) {
            self.process = process
            self.stdin = stdin
        }
    }

    private let handles: Handles
    private let stdinClosed = Mutex(false)
    public let output: AsyncStream<Output>

    /// The PATH a container starts with (an image's usual one), whatever the host's is.
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Starts `command` with `mounts` visible; output arrives on ``output``.
    public init(
        command: [String], mounts: [VolumeMount], workingDirectory: String = "/", environment: [String: String] = [:],
        helper: URL, withStdin: Bool, sink: (@Sendable (Output) -> Void)? = nil
    ) throws(ContainerRuntimeError) {
        guard let executable = command.first, !executable.isEmpty else {
            throw ContainerRuntimeError(message: "no command to run: the container has neither command nor args")
        }
        let sandbox = try PodSandbox.current.get()
        let unshare = PodSandbox.unsharePath ?? "unshare"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: unshare)
        // Rootless pods get a new root folder next to the helper (see VolumeDataStore.helperScript).
        let rootfs = sandbox == .userNamespace ? helper.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("rootfs").path : "-"
        var arguments = sandbox.unshareArguments + [helper.path, rootfs, workingDirectory, String(mounts.count)]
        for mount in mounts { arguments += [mount.source, mount.target, mount.readOnly ? "ro" : "rw"] }
        process.arguments = arguments + command
        var env = ["PATH": Self.defaultPath, "HOME": "/root"]
        env.merge(environment) { _, new in new }
        process.environment = env
        let stdoutPipe = Pipe(), stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        var stdinHandle: FileHandle?
        if withStdin {
            let stdinPipe = Pipe()
            process.standardInput = stdinPipe
            stdinHandle = stdinPipe.fileHandleForWriting
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let (stream, streamContinuation) = AsyncStream.makeStream(of: Output.self, bufferingPolicy: .unbounded)
        self.output = stream
        // With a sink (container main processes) output goes straight there, no reader task needed.
        let emit: @Sendable (Output) -> Void = { item in
            if let sink { sink(item) } else { streamContinuation.yield(item) }
            if case .exited = item { streamContinuation.finish() }
        }
        // Three things must happen before `exited` is sent: stdout EOF, stderr EOF, termination.
        let pending = ExitTracker()
        let finishOne: @Sendable (Int32?) -> Void = { status in
            let done = pending.state.withLock { state -> Int32? in
                if let status { state.status = status }
                state.left -= 1
                return state.left == 0 ? state.status : nil
            }
            if let done { emit(.exited(done)) }
        }
        var readers: [Thread] = []
        // One blocking reader thread per pipe: readabilityHandler on Linux was seen to miss EOF, and
        // a missed EOF would leave an exec waiting forever. The threads end at EOF, so with the process.
        for (pipe, isError) in [(stdoutPipe, false), (stderrPipe, true)] {
            let reader = ReaderHandle(pipe.fileHandleForReading)
            let thread = Thread {
                while true {
                    let chunk = reader.handle.availableData
                    if chunk.isEmpty { break }
                    emit(isError ? .stderr(chunk) : .stdout(chunk))
                }
                finishOne(nil)
            }
            thread.name = "container-output"
            readers.append(thread)
        }
        process.terminationHandler = { process in
            let code = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            finishOne(code)
        }
        do {
            try process.run()
        } catch {
            throw ContainerRuntimeError(message: "cannot start \(unshare) for command \(command): \(error)")
        }
        for reader in readers { reader.start() }
        self.handles = Handles(process: process, stdin: stdinHandle)
        // Foundation starts the child as the leader of a process group of its own (unshare, the
        // helper and the command all exec, so the command keeps that pid): stopping the group
        // reaches whatever the command started in the background.
        let pid = process.processIdentifier
        self.group = getpgid(pid) == pid ? pid : nil
        if let group { Self.groups.withLock { _ = $0.insert(group) } }
    }

    /// The process group this command leads (nil if it does not lead one).
    private let group: pid_t?

    /// Every process group a container command or exec started in this process.
    private static let groups = Mutex(Set<pid_t>())

    /// Sends `signal` to every group that still has a member; forgets the empty ones (so a group
    /// id reused later by an unrelated process is never signalled). Returns how many were live.
    @discardableResult
    static func signalAllGroups(_ signal: Int32) -> Int {
        groups.withLock { groups in
            for group in groups where kill(-group, 0) == -1 && errno == ESRCH { groups.remove(group) }
            for group in groups { kill(-group, signal) }
            return groups.count
        }
    }

    /// Ends every process any pod or exec started (the server is going away; nothing may outlive
    /// it): SIGTERM to each group, SIGKILL to what is left after `grace`, then waits briefly for
    /// the kernel to finish them.
    public static func stopEverything(grace: Duration = .seconds(2)) async {
        guard signalAllGroups(SIGTERM) > 0 else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline, signalAllGroups(0) > 0 { try? await Task.sleep(for: .milliseconds(50)) }
        guard signalAllGroups(SIGKILL) > 0 else { return }
        let end = clock.now + .seconds(1)
        while clock.now < end, signalAllGroups(0) > 0 { try? await Task.sleep(for: .milliseconds(20)) }
    }

    public func writeStdin(_ data: Data) {
        guard let stdin = handles.stdin, !stdinClosed.withLock({ $0 }) else { return }
        try? stdin.write(contentsOf: data)
    }

    public func closeStdin() {
        guard let stdin = handles.stdin else { return }
        let wasClosed = stdinClosed.withLock { closed in
            defer { closed = true }
            return closed
        }
        if !wasClosed { try? stdin.close() }
    }

    /// SIGTERM now; SIGKILL if it is still there shortly after (a container's grace period, shortened).
    public func terminate() {
        closeStdin()
        let handles = self.handles
        let pid = handles.process.processIdentifier
        // The whole group: a shell's background children go with it.
        let target = group.map { -$0 } ?? pid
        guard handles.process.isRunning || group != nil else { return }
        kill(target, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
            if handles.process.isRunning || (target < 0 && kill(target, 0) == 0) { kill(target, SIGKILL) }
        }
    }

    public var isRunning: Bool { handles.process.isRunning }

    /// A pipe's read end, handed to its reader thread.
    private final class ReaderHandle: @unchecked Sendable {
        let handle: FileHandle
        init(_ handle: FileHandle) { self.handle = handle }
    }

    /// Counts down stdout EOF, stderr EOF and termination; a class because closures cannot capture a Mutex.
    private final class ExitTracker: Sendable {
        let state = Mutex((left: 3, status: Int32(0)))
    }
}
