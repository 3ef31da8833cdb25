import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Turns SIGINT/SIGTERM into a callback, so the exercise can stop its command group and journal
/// the phase instead of dying mid-write. A real handler (not SIG_IGN plus a dispatch source):
/// a shell starts background jobs with SIGINT ignored, and an ignored signal is never seen.
/// The handler only writes the signal number to a pipe; a thread reads it and calls back.
public final class SignalWatch: Sendable {
    public let signals: [Int32]

    public init(_ signals: [Int32], _ handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        signalPipeWriteEnd = ends[1]
        let readEnd = ends[0]
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 { handler(Int32(byte)) } else if count < 0, errno == EINTR { continue } else { return }
            }
        }
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipeWriteEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    /// Back to the default actions (the run is over).
    public func cancel() {
        for number in signals { signal(number, SIG_DFL) }
    }
}

/// Written only once, before the handlers are installed; the handler may only do async-signal-safe work.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1
