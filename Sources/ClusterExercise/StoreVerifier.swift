import Backupstore
import DRCore
import Foundation

/// Reads a backup straight from its store, checks every block against its name, and, when a
/// file is asked for, rebuilds the volume image and hashes that file out of its ext4
/// filesystem. The one verifier: `backup verify` and the exercise's store check both use it.
public struct StoreVerifier: Sendable {
    public let reader: BackupReader

    public init(store: any ObjectStore, layout: BackupstoreLayout) {
        self.reader = BackupReader(store: store, layout: layout)
    }

    public struct Outcome: Sendable {
        /// The backup verified (the newest completed one when none was named).
        public var backup: BackupConfig
        public var blocks: BackupReader.Result
        /// The file read out of the image, when one was asked for.
        public var file: Ext4FileExtractor.Extracted?
        /// How long fetching and checking the blocks took.
        public var blockSeconds: Double
    }

    /// - Parameters:
    ///   - backup: the backup's name; nil for the newest completed backup.
    ///   - file: a path inside the volume's filesystem; without one no image is written.
    ///   - workFolder: an existing private folder for the image (removed again) and the file.
    /// - Throws: `.verificationFailed` for a missing file; the reader's errors for a missing,
    ///   truncated or corrupt block; `.environment` when debugfs is missing (before any download).
    public func verify(
        volume: String, backup: String?, file: String?, parallelism: Int = 8, workFolder: URL,
        progress: (@Sendable (BackupReader.Progress) -> Void)? = nil
    ) async throws -> Outcome {
        if let file {
            try Ext4FileExtractor.validate(file)
            // Fail before a long download when the tool for the file is missing.
            _ = try Ext4FileExtractor.locateDebugfs()
        }
        let config =
            if let backup {
                try await reader.backupConfig(volume: volume, backup: backup)
            } else {
                try await reader.latestCompletedBackup(volume: volume)
            }
        let started = ContinuousClock.now
        guard let file else {
            let blocks = try await reader.verify(volume: volume, backup: config.name, parallelism: parallelism, progress: progress)
            return Outcome(backup: config, blocks: blocks, file: nil, blockSeconds: (ContinuousClock.now - started).seconds)
        }
        let image = workFolder.appendingPathComponent("\(volume)-\(UUID().uuidString).img")
        defer { try? FileManager.default.removeItem(at: image) }
        let blocks = try await reader.restore(volume: volume, backup: config.name, to: image, parallelism: parallelism, progress: progress)
        let blockSeconds = (ContinuousClock.now - started).seconds
        let extracted = try await Ext4FileExtractor.extract(path: file, from: image, into: workFolder)
        return Outcome(backup: config, blocks: blocks, file: extracted, blockSeconds: blockSeconds)
    }
}
