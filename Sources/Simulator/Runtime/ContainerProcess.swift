import Foundation
import ProcessRunner
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

    private let child: ChildProcess
    public let output: AsyncStream<Output>

    /// The PATH a container starts with (an image's usual one), whatever the host's is.
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Runs before the process group is signalled on ``terminate()`` (a podman container is
    /// stopped through podman, which owns it).
    private let beforeTerminate: (@Sendable () -> Void)?

    /// Starts `command` with `mounts` visible; output arrives on ``output``.
    public convenience init(
        command: [String], mounts: [VolumeMount], workingDirectory: String = "/", environment: [String: String] = [:],
        helper: URL, withStdin: Bool, sink: (@Sendable (Output) -> Void)? = nil
    ) throws(ContainerRuntimeError) {
        guard let executable = command.first, !executable.isEmpty else {
            throw ContainerRuntimeError(message: "no command to run: the container has neither command nor args")
        }
        let sandbox = try PodSandbox.current.get()
        let unshare = PodSandbox.unsharePath ?? "/usr/bin/unshare"
        // Rootless pods get a new root folder next to the helper (see VolumeDataStore.helperScript).
        let rootfs = sandbox == .userNamespace ? helper.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("rootfs").path : "-"
        var arguments = sandbox.unshareArguments + [helper.path, rootfs, workingDirectory, String(mounts.count)]
        for mount in mounts { arguments += [mount.source, mount.target, mount.readOnly ? "ro" : "rw"] }
        var env = ["PATH": Self.defaultPath, "HOME": "/root"]
        env.merge(environment) { _, new in new }
        try self.init(
            request: ProcessRequest(executable: unshare, arguments: arguments + command, environment: env), describing: "command \(command)",
            withStdin: withStdin, sink: sink)
    }

    /// Starts a prepared request (`unshare …` or `podman run|exec …`) as a container process.
    init(
        request: ProcessRequest, describing what: String, withStdin: Bool, sink: (@Sendable (Output) -> Void)? = nil,
        beforeTerminate: (@Sendable () -> Void)? = nil
    ) throws(ContainerRuntimeError) {
        self.beforeTerminate = beforeTerminate
        let (stream, streamContinuation) = AsyncStream.makeStream(of: Output.self, bufferingPolicy: .unbounded)
        self.output = stream
        // With a sink (container main processes) output goes straight there, no reader task needed.
        let emit: @Sendable (Output) -> Void = { item in
            if let sink { sink(item) } else { streamContinuation.yield(item) }
            if case .exited = item { streamContinuation.finish() }
        }
        let registered = Registered()
        do {
            child = try ChildProcess(request, acceptsInput: withStdin) { event in
                switch event {
                case .standardOutput(let data): emit(.stdout(data))
                case .standardError(let data): emit(.stderr(data))
                case .exited(let status):
                    // The group went with the process (see ChildProcess): forget its id, which
                    // may now be reused.
                    if let pid = registered.withLock({ $0 }) { Self.groups.withLock { _ = $0.remove(pid) } }
                    emit(.exited(status))
                }
            }
        } catch {
            throw ContainerRuntimeError(message: "cannot start \(request.executable) for \(what): \(error.reason)")
        }
        // The child leads a process group of its own (unshare, the helper and the command all
        // exec, so the command keeps that pid): stopping the group reaches whatever the command
        // started in the background.
        let pid = child.pid
        registered.withLock { $0 = pid }
        Self.groups.withLock { _ = $0.insert(pid) }
        // It may have ended before it was registered.
        if !child.isRunning { Self.groups.withLock { _ = $0.remove(pid) } }
    }

    /// The child's id once it is in ``groups``, for its exit to take it out.
    private final class Registered: Sendable {
        private let value = Mutex<pid_t?>(nil)
        func withLock<R>(_ body: (inout pid_t?) -> R) -> R { value.withLock { body(&$0) } }
    }

    /// Every process group a container command or exec started in this process.
    private static let groups = Mutex(Set<pid_t>())

    /// Sends `signal` to the group of every command still running (an ended one left the set
    /// with its group, whose id may be reused); returns how many there were.
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

    public func writeStdin(_ data: Data) { child.write(data) }

    public func closeStdin() { child.closeInput() }

    /// SIGTERM to the command's group now; SIGKILL to what is left of it shortly after (a
    /// container's grace period, shortened).
    public func terminate() {
        if child.isRunning { beforeTerminate?() }
        child.stop(grace: .seconds(2))
    }

    public var isRunning: Bool { child.isRunning }
}
