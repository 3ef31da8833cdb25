import Foundation

extension BackupReader {
    /// The newest completed backup of `volume`: the one with the latest `CreatedTime` among the cfgs
    /// that have one (an empty `CreatedTime` means Longhorn is still writing that backup).
    ///
    /// Why not `volume.cfg`'s `LastBackupName`: it names the last backup *started*, which can be one
    /// that failed or is still running; a verifier must pick what a restore would pick.
    ///
    /// - Throws: `.notFound` when the volume has no completed backup; `.invalidConfig` when a cfg
    ///   cannot be parsed (a damaged cfg must not be skipped silently); store errors.
    public func latestCompletedBackup(volume: String) async throws -> BackupConfig {
        let names = try await listBackups(volume: volume)
        var newest: (config: BackupConfig, time: Date)?
        var inProgress: [String] = []
        for name in names {
            let config = try await backupConfig(volume: volume, backup: name)
            if config.isInProgress {
                inProgress.append(name)
                continue
            }
            guard let time = Self.parseCreatedTime(config.createdTime) else {
                throw BackupstoreError(
                    .invalidConfig, subject: "backup \(name) of volume \(volume)",
                    detail: "CreatedTime \"\(config.createdTime)\" is not an RFC 3339 time",
                    hint: "name the backup to verify with --backup", key: layout.backupConfigKey(volume: volume, backup: name))
            }
            if newest == nil || time > newest?.time ?? .distantPast {
                newest = (config, time)
            }
        }
        guard let newest else {
            var detail =
                names.isEmpty
                ? "has no backup cfgs under \(layout.backupsDirectory(volume))"
                : "has no completed backup"
            if !inProgress.isEmpty { detail += " (still in progress: \(inProgress.joined(separator: ", ")))" }
            throw BackupstoreError(
                .notFound, subject: "volume \(volume)", detail: detail,
                hint: "check the volume name and the backup target path; wait for a running backup to complete",
                key: layout.backupsDirectory(volume))
        }
        return newest.config
    }

    /// Parses Longhorn's `CreatedTime` (Go's RFC 3339, with or without fractional seconds).
    public static func parseCreatedTime(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
