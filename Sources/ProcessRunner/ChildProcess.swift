import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A process that runs alongside its caller: output arrives as it is written, input can be
/// written while it runs, and it is stopped on request. Spawned the same way as
/// ``ProcessRunner/run(_:)`` (argument array, own process group, default signals); for a command
/// that runs to its end, use that instead.
///
/// When the process ends, whatever is left of its group is killed at once, as a container's
/// end takes everything in it along (a daemon that must outlive it starts with `setsid`). Only
/// then is its group id safe from reuse: signalling it later could reach a stranger that got
/// the same id (pid_max is 32768 here, and tests spawn thousands of processes).
public final class ChildProcess: Sendable {
    public enum Event: Sendable, Equatable {
        case standardOutput(Data)
        case standardError(Data)
        /// The process ended and both pipes are drained: the exit code (128 + signal when killed).
        /// Always the last event.
        case exited(Int32)
    }

    /// The process id; the process leads a group of the same id.
    public let pid: pid_t
    private let input: Mutex<Int32>
    private let reaped = Flag()
    private let stopper = GroupStop()

    /// Starts the process; `onEvent` is called from threads of the child's own, in order per
    /// stream, and `.exited` comes last.
    public init(_ request: ProcessRequest, acceptsInput: Bool, onEvent: @escaping @Sendable (Event) -> Void) throws(ProcessStartError) {
        var request = request
        request.standardOutput = .capture
        request.standardError = .capture
        let started = try Spawn.start(request, inputPipe: acceptsInput)
        pid = started.pid
        input = Mutex(started.input)
        // Three things before `exited`: stdout EOF, stderr EOF, the exit itself.
        let pending = Mutex((left: 3, status: Int32(0)))
        let finishOne: @Sendable (Int32?) -> Void = { status in
            let done = pending.withLock { state -> Int32? in
                if let status { state.status = status }
                state.left -= 1
                return state.left == 0 ? state.status : nil
            }
            if let done { onEvent(.exited(done)) }
        }
        for (descriptor, isError) in [(started.output, false), (started.error, true)] {
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR { continue }
                    if count <= 0 { break }
                    let chunk = Data(buffer[0..<count])
                    onEvent(isError ? .standardError(chunk) : .standardOutput(chunk))
                }
                close(descriptor)
                finishOne(nil)
            }
        }
        let leader = started.pid
        let reaped = reaped
        let stopper = stopper
        Thread.detachNewThread {
            var raw: Int32 = 0
            while waitpid(leader, &raw, 0) == -1, errno == EINTR {}
            // The id stays reserved while a member lives, so this reaches only what is left of
            // the group; from now on nothing signals it.
            stopper.end()
            kill(-leader, SIGKILL)
            reaped.set()
            finishOne(raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f))
        }
    }

    deinit {
        input.withLock { if $0 >= 0 { close($0) } }
    }

    /// Whether the process itself (the group's leader) has not ended yet.
    public var isRunning: Bool { !reaped.isSet }

    /// Writes to the process's standard input; blocks while its pipe is full. Nothing happens
    /// once the input is closed or the process stopped reading.
    public func write(_ data: Data) {
        let descriptor = input.withLock { $0 }
        guard descriptor >= 0 else { return }
        InputWriter.writeAll(data, to: descriptor)
    }

    /// Closes standard input: the process reads end-of-file.
    public func closeInput() {
        let descriptor = input.withLock { value -> Int32 in
            defer { value = -1 }
            return value
        }
        if descriptor >= 0 { close(descriptor) }
    }

    /// SIGTERM to the whole group now, SIGKILL to whatever of it is left after `grace`; nothing
    /// once the process has ended (its group went with it).
    public func stop(grace: Duration) {
        closeInput()
        guard isRunning else { return }
        stopper.begin(pid, grace: grace)
    }
}
