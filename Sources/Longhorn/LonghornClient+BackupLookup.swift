import Foundation
import KubeClient
import KubeModels

extension LonghornClient {
    /// The BackupVolume of `volume` on `target`, whatever the naming scheme: matched by the
    /// `backup-volume`/`backup-target` labels or `spec.volumeName` (v1.8+), or by CR name (≤ v1.7).
    /// - Throws: `.ambiguous` naming them when more than one matches (Longhorn treats that as an error too).
    public func findBackupVolume(volume: String, target: String = LonghornResources.defaultBackupTarget) async throws(LonghornError) -> BackupVolume? {
        try Self.matchingBackupVolume(volume: volume, target: target, in: try await list(BackupVolume.self), namespace: namespace)
    }

    /// Picks the one BackupVolume of `volume` on `target` out of all of them.
    public static func matchingBackupVolume(volume: String, target: String, in all: [BackupVolume], namespace: String) throws(LonghornError) -> BackupVolume? {
        let matches = all.filter { $0.belongs(toVolume: volume, target: target) }
        guard matches.count <= 1 else {
            throw LonghornError(
                .ambiguous, subject: "backup volumes of \(volume) on target \(target)",
                detail: "\(matches.count) BackupVolumes match: \(matches.map(\.name).sorted().joined(separator: ", "))",
                hint:
                    "Longhorn itself refuses this state; check `kubectl -n \(namespace) get backupvolumes.longhorn.io -l backup-volume=\(volume)` and let Longhorn's cleanup (v1.9.1+) or support resolve the duplicates; do not delete BackupVolume CRs by hand (that deletes store data)"
            )
        }
        return matches.first
    }

    /// Finds the backup of `volume` to restore under `selection`, telling "not synced yet" apart
    /// from "confirmed: no backup".
    /// - Parameter syncedAfter: the time a sync was requested (see `waitUntilReadyForRestore`);
    ///   only syncs at or after it count as evidence.
    /// - Throws: `.backupNotFound` for a pinned backup (name, or as-of time) that does not exist after a
    ///   confirmed sync, `.backupFailed` for a pinned backup that failed, `.ambiguous` for duplicate BackupVolumes.
    public func findBackup(
        volume: String, target: String = LonghornResources.defaultBackupTarget, selection: BackupSelection = .latest, syncedAfter: Date
    ) async throws(LonghornError) -> BackupLookup {
        let backupTarget = try await get(BackupTarget.self, target)
        guard let backupTarget, backupTarget.isSynced(after: syncedAfter) else {
            return try Self.decideBackup(
                volume: volume, target: target, selection: selection, syncedAfter: syncedAfter,
                backupTarget: backupTarget, backupVolumes: [], backups: [], namespace: namespace)
        }
        let backupVolumes = try await list(BackupVolume.self)
        let backups = try await list(Backup.self)
        return try Self.decideBackup(
            volume: volume, target: target, selection: selection, syncedAfter: syncedAfter,
            backupTarget: backupTarget, backupVolumes: backupVolumes, backups: backups, namespace: namespace,
            requireBackupTargetName: version.hasMultipleBackupTargets)
    }

    /// The decision of `findBackup` on objects already read: no I/O, so every branch is testable.
    /// - Parameter requireBackupTargetName: v1.8+: the restore webhook finds the BackupVolume through
    ///   the Backup's `status.backupTargetName`, so a Completed Backup without it is not usable yet.
    public static func decideBackup(
        volume: String, target: String, selection: BackupSelection, syncedAfter: Date,
        backupTarget: BackupTarget?, backupVolumes: [BackupVolume], backups: [Backup], namespace: String,
        requireBackupTargetName: Bool = false
    ) throws(LonghornError) -> BackupLookup {
        // Hop 1: the target must have been listed after the requested time.
        guard let backupTarget else { return .notSynced(.targetMissing(target: target)) }
        guard backupTarget.isAvailable else { return .notSynced(.targetUnavailable(target: target, reason: backupTarget.unavailableReason)) }
        guard let targetSynced = backupTarget.lastSyncedAt, targetSynced >= syncedAfter else {
            return .notSynced(.targetNotSynced(target: target, lastSyncedAt: backupTarget.lastSyncedAt, wanted: syncedAfter))
        }
        // Hop 2: the volume's folder. None after a fresh listing means the store has none.
        guard let backupVolume = try matchingBackupVolume(volume: volume, target: target, in: backupVolumes, namespace: namespace) else {
            if case .named(let name) = selection {
                throw LonghornError(
                    .backupNotFound, subject: "backup \(name) of volume \(volume)",
                    detail: "backup target \(target) (synced \(LonghornTime.format(targetSynced))) has no backup volume for \(volume) at all",
                    hint: "check the pinned backup name and the backup target URL; a pinned restore never falls back to another backup")
            }
            return .confirmedNone(NoBackupEvidence(volume: volume, target: target, targetSyncedAt: targetSynced))
        }
        guard let volumeSynced = backupVolume.lastSyncedAt, volumeSynced >= syncedAfter else {
            return .notSynced(.backupVolumeNotSynced(name: backupVolume.name, lastSyncedAt: backupVolume.lastSyncedAt, wanted: syncedAfter))
        }
        // Hop 3: the Backup CRs of that folder, filled in by the backup controller.
        let own = backups.filter { backup in
            guard backup.volumeName == volume else { return false }
            if let backupTarget = backup.backupTargetName { return backupTarget == target }
            return true
        }
        let completed = own.filter(\.isCompleted).sorted(by: isOlder)
        let pending = own.filter { !$0.isCompleted && !$0.hasFailed }
        let evidence = NoBackupEvidence(
            volume: volume, target: target, targetSyncedAt: targetSynced,
            backupVolume: backupVolume.name, backupVolumeSyncedAt: volumeSynced)
        // Completed is not enough for a restore: the webhook also reads the URL, size and (v1.8+) target.
        func usable(_ backup: Backup) -> BackupLookup {
            var missing: [String] = []
            if backup.status?.url?.isEmpty != false { missing.append("status.url") }
            if backup.volumeSizeBytes == nil { missing.append("status.volumeSize") }
            if requireBackupTargetName, backup.status?.backupTargetName?.isEmpty != false { missing.append("status.backupTargetName") }
            guard missing.isEmpty else {
                return .notSynced(.backupNotSynced(name: backup.name, state: "Completed without \(missing.joined(separator: ", "))"))
            }
            return .found(backup, backupVolume: backupVolume)
        }

        switch selection {
        case .latest:
            if let last = backupVolume.lastBackupName {
                guard let lastBackup = backups.first(where: { $0.name == last }) else {
                    return .notSynced(.backupNotSynced(name: last, state: "no Backup CR yet"))
                }
                if !lastBackup.isCompleted && !lastBackup.hasFailed {
                    return .notSynced(.backupNotSynced(name: last, state: lastBackup.state))
                }
            }
            if let newest = completed.last { return usable(newest) }
            if let waiting = pending.first { return .notSynced(.backupNotSynced(name: waiting.name, state: waiting.state)) }
            return .confirmedNone(evidence)

        case .named(let name):
            guard let backup = backups.first(where: { $0.name == name }) else {
                throw LonghornError(
                    .backupNotFound, subject: Backup.subject(namespace, name),
                    detail:
                        "does not exist, though BackupVolume \(backupVolume.name) synced at \(LonghornTime.format(volumeSynced)); its backups: \(describe(own))",
                    hint: "check the pinned backup name; a pinned restore never falls back to another backup")
            }
            if let owner = backup.volumeName, owner != volume {
                throw LonghornError(
                    .conflict, subject: backup.subject, detail: "belongs to volume \(owner), not \(volume)",
                    hint: "pin a backup of \(volume)")
            }
            if backup.isCompleted { return usable(backup) }
            if backup.hasFailed {
                throw LonghornError(
                    .backupFailed, subject: backup.subject, detail: "is \(backup.state): \(backup.errorText)",
                    hint: "pin a Completed backup (`kubectl -n \(namespace) get backups.longhorn.io -l backup-volume=\(volume)`)")
            }
            return .notSynced(.backupNotSynced(name: name, state: backup.state))

        case .asOf(let time):
            if let chosen = completed.last(where: { ($0.pointInTime ?? .distantPast) <= time }) {
                return usable(chosen)
            }
            if let waiting = pending.first { return .notSynced(.backupNotSynced(name: waiting.name, state: waiting.state)) }
            if completed.isEmpty { return .confirmedNone(evidence) }
            throw LonghornError(
                .backupNotFound, subject: "backups of volume \(volume)",
                detail:
                    "no Completed backup was taken at or before \(LonghornTime.format(time)); the oldest is \(completed[0].name) at \(completed[0].status?.snapshotCreatedAt ?? "?")",
                hint: "choose a later as-of time or pin a backup by name; a pinned restore never falls back to a newer backup")
        }
    }

    /// Orders backups by the time they captured (snapshot time, else upload end), then by name.
    static func isOlder(_ left: Backup, _ right: Backup) -> Bool {
        let leftTime = left.pointInTime ?? .distantPast
        let rightTime = right.pointInTime ?? .distantPast
        return leftTime != rightTime ? leftTime < rightTime : left.name < right.name
    }

    private static func describe(_ backups: [Backup]) -> String {
        backups.isEmpty ? "none" : backups.sorted(by: isOlder).map { "\($0.name) (\($0.state.isEmpty ? "unsynced" : $0.state))" }.joined(separator: ", ")
    }
}
