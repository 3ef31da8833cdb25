import Backupstore
import DRCore
import Foundation
import Synchronization

/// A one-line progress display on standard error, only when it is a terminal (pipes, CI logs and
/// `--output json` consumers get no carriage-return noise).
final class ProgressLine: Sendable {
    let isEnabled: Bool
    private let label: String
    private let started = ContinuousClock.now
    /// The last time a line was drawn, so redraws stay at about ten a second.
    private let lastDrawn = Mutex<ContinuousClock.Instant?>(nil)

    init(label: String) {
        self.label = label
        self.isEnabled = isatty(STDERR_FILENO) == 1
    }

    func update(_ progress: BackupReader.Progress) {
        guard isEnabled else { return }
        let now = ContinuousClock.now
        let draw = lastDrawn.withLock { (last: inout ContinuousClock.Instant?) -> Bool in
            if let last, now - last < .milliseconds(100), progress.blocksDone < progress.blocksTotal { return false }
            last = now
            return true
        }
        guard draw else { return }
        let seconds = (now - started).seconds
        let mib = Double(progress.bytesDone) / 1_048_576
        let rate = seconds > 0 ? mib / seconds : 0
        let line =
            "\r\(label): \(progress.blocksDone)/\(progress.blocksTotal) blocks, "
            + String(format: "%.0f MiB, %.1f MiB/s ", mib, rate)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard isEnabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
