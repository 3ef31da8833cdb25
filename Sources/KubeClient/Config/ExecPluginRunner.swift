import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs one credential-plugin process: argument array (never a shell string), explicit environment,
/// no standard input, stdout and stderr captured, killed when it runs past its time.
struct ExecPluginRunner: Sendable {
    struct Outcome: Sendable {
        var status: Int32
        var timedOut: Bool
        var stdout: Data
        var stderr: Data
    }

    var timeout: Duration
    /// Time between SIGTERM and SIGKILL when the plugin overruns.
    var killGrace: Duration = .seconds(2)
    /// How long to keep reading output after the plugin exited. A child the plugin left behind may
    /// hold the pipes open; we do not wait for it.
    var drainLimit: Duration = .seconds(1)

    /// - Throws: whatever `Process.run()` throws when the executable cannot be started.
    func run(executable: String, arguments: [String], environment: [String: String]) async throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe

        let exit = ExitWaiter()
        process.terminationHandler = { finished in
            // Report a death by signal the way shells do (128 + signal), so it is not mistaken for exit code 9 or 15.
            let signaled = finished.terminationReason == .uncaughtSignal
            exit.finish(signaled ? 128 + finished.terminationStatus : finished.terminationStatus)
        }
        try process.run()
        let pid = process.processIdentifier

        // Blocking reads run on their own threads: not in the cooperative pool (a slow plugin must not
        // starve Swift tasks) and not on Dispatch's global queue, whose few worker threads also run
        // the drain deadline below and would deadlock against a pipe a leftover child keeps open.
        let stdout = OutputCollector()
        let stderr = OutputCollector()
        stdout.start(reading: stdoutPipe.fileHandleForReading)
        stderr.start(reading: stderrPipe.fileHandleForReading)

        let timedOut = Flag()
        let timeout = self.timeout
        let killGrace = self.killGrace
        let status = await withTaskCancellationHandler {
            await withTaskGroup(of: Int32?.self) { group in
                group.addTask { await exit.wait() }
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch { return nil }
                    // A tiny window remains between the exit check and kill(); the pid is only
                    // reused after the reap that `exit` reports, so the check keeps it small.
                    guard !exit.hasExited else { return nil }
                    timedOut.set()
                    signalProcessGroup(pid, SIGTERM)
                    do { try await Task.sleep(for: killGrace) } catch { return nil }
                    if !exit.hasExited { signalProcessGroup(pid, SIGKILL) }
                    return nil
                }
                var status: Int32 = -1
                for await value in group {
                    if let value {
                        status = value
                        group.cancelAll()
                    }
                }
                return status
            }
        } onCancel: {
            if !exit.hasExited { signalProcessGroup(pid, SIGKILL) }
        }

        // Both pipes normally end with the process; give them a bounded moment, not forever.
        let drainSeconds = Double(drainLimit.components.seconds) + Double(drainLimit.components.attoseconds) / 1e18
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(continuation)
            DispatchQueue.global().asyncAfter(deadline: .now() + drainSeconds) { once.resume() }
            stdout.whenEnded { stderr.whenEnded { once.resume() } }
        }
        return Outcome(
            status: status, timedOut: timedOut.isSet, stdout: stdout.collected, stderr: stderr.collected)
    }
}

// MARK: - Helpers

/// Signals the plugin and everything it started.
///
/// swift-corelibs-foundation starts each `Process` as the leader of its own process group and learns
/// of its exit through a socket the child inherits. A child the plugin left running (`sleep`, a
/// browser helper) inherits that socket and the output pipes too, so killing only the plugin would
/// leave us waiting for the child. Signalling the group ends them all; where the group signal fails
/// (no separate group on this platform) the plugin itself is signalled.
private func signalProcessGroup(_ pid: Int32, _ signal: Int32) {
    if kill(-pid, signal) != 0 {
        kill(pid, signal)
    }
}

/// A boolean that one task sets and another reads.
private final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// Reports the process exit once, to one waiter, whichever comes first.
private final class ExitWaiter: Sendable {
    private struct State {
        var status: Int32?
        var waiter: CheckedContinuation<Int32?, Never>?
    }

    private let state = Mutex(State())

    var hasExited: Bool { state.withLock { $0.status != nil } }

    func finish(_ status: Int32) {
        let waiter = state.withLock { state -> CheckedContinuation<Int32?, Never>? in
            state.status = status
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: status)
    }

    func wait() async -> Int32? {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state -> Int32? in
                if state.status == nil { state.waiter = continuation }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}

/// Reads a pipe to its end on a dedicated thread and keeps what it read.
private final class OutputCollector: Sendable {
    private struct State {
        var data = Data()
        var ended = false
        var callbacks: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    var collected: Data { state.withLock { $0.data } }

    func start(reading handle: FileHandle) {
        let thread = Thread {
            let data = handle.readDataToEndOfFile()
            let callbacks = self.state.withLock { state -> [@Sendable () -> Void] in
                state.data = data
                state.ended = true
                defer { state.callbacks = [] }
                return state.callbacks
            }
            for callback in callbacks { callback() }
        }
        thread.name = "exec-plugin-output"
        thread.start()
    }

    /// Calls `callback` once the pipe has ended (right away if it already has).
    func whenEnded(_ callback: @escaping @Sendable () -> Void) {
        let ended = state.withLock { state -> Bool in
            if !state.ended { state.callbacks.append(callback) }
            return state.ended
        }
        if ended { callback() }
    }
}

/// Resumes a continuation on the first call and ignores later ones.
private final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>

    init(_ continuation: CheckedContinuation<Void, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume() {
        let pending = continuation.withLock { value -> CheckedContinuation<Void, Never>? in
            defer { value = nil }
            return value
        }
        pending?.resume()
    }
}
