import Foundation

/// What the orchestrator saw about one well-known volume, gathered by the application layer.
public struct VolumeObservation: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        /// The backup target answered and finished a sync after the orchestrator started.
        case synced(at: Date)
        /// Not available, or not synced since the orchestrator started; the text says which.
        case notReady(String)
    }

    public enum Backups: Sendable, Equatable {
        /// The backup to restore from, chosen by the volume's policy.
        case found(BackupReference)
        /// The target is synced and its BackupVolume (if any) too, and no Completed backup exists.
        case confirmedNone
        /// A pinned backup or as-of time found nothing although other backups exist.
        case noMatch(String)
        /// The BackupVolume or Backup objects are not synced yet.
        case notSynced(String)
    }

    public var longhornVolumeExists: Bool
    public var skipFlagSet: Bool
    public var target: Target
    public var backups: Backups

    public init(longhornVolumeExists: Bool, skipFlagSet: Bool, target: Target, backups: Backups) {
        self.longhornVolumeExists = longhornVolumeExists
        self.skipFlagSet = skipFlagSet
        self.target = target
        self.backups = backups
    }
}

/// The backup a volume comes back from.
public struct BackupReference: Sendable, Equatable, Codable {
    public var name: String
    /// `Backup.status.url`, used verbatim as the restore Volume's `fromBackup`.
    public var url: String
    /// When the snapshot behind it was taken: the point the data is from (RPO).
    public var snapshotCreatedAt: Date?
    public var volumeSize: Int64?

    public init(name: String, url: String, snapshotCreatedAt: Date?, volumeSize: Int64?) {
        self.name = name
        self.url = url
        self.snapshotCreatedAt = snapshotCreatedAt
        self.volumeSize = volumeSize
    }
}

/// The orchestrator's decision for one volume (DESIGN.md, "The restore orchestrator, in one table").
public enum RestoreDecision: Sendable, Equatable {
    /// The Longhorn volume exists: keep it, make sure its PV is there and pre-bound.
    case keepExisting
    /// Create an empty volume (and PV). The reason is recorded: skip flag, or confirmed no backup.
    case provisionFresh(reason: String)
    /// Restore from this backup, then create the PV.
    case restore(BackupReference)
    /// Not enough is known yet; look again (and bump syncRequestedAt).
    case wait(reason: String)
    /// Stop: this volume must not come up empty or from the wrong data.
    case fail(reason: String)

    /// A short machine-readable name for reports and the status ConfigMap.
    public var code: String {
        switch self {
        case .keepExisting: "keep-existing"
        case .provisionFresh: "fresh"
        case .restore: "restore"
        case .wait: "wait"
        case .fail: "fail"
        }
    }
}

public enum RestoreDecider {
    /// Decides what to do with one volume. Never answers "fresh" on anything but a confirmed
    /// empty store (or the explicit skip flag); an unsynced target past its deadline is a failure.
    /// - Parameter pastSyncDeadline: the orchestrator has waited `syncTimeout` already.
    public static func decide(_ volume: RestoreConfig.Volume, _ observed: VolumeObservation, pastSyncDeadline: Bool) -> RestoreDecision {
        if observed.longhornVolumeExists { return .keepExisting }
        if observed.skipFlagSet { return .provisionFresh(reason: "skip flag set: the cluster starts fresh by request") }
        if case .notReady(let why) = observed.target {
            return pastSyncDeadline
                ? .fail(reason: "backup target not synced within the sync timeout (\(why)); refusing to guess that no backup exists")
                : .wait(reason: why)
        }
        switch observed.backups {
        case .found(let backup):
            return .restore(backup)
        case .notSynced(let why):
            return pastSyncDeadline
                ? .fail(reason: "backups of \(volume.name) not synced within the sync timeout (\(why)); refusing to guess that no backup exists")
                : .wait(reason: why)
        case .noMatch(let why):
            return .fail(reason: why)
        case .confirmedNone:
            switch volume.onMissingBackup {
            case .fresh: return .provisionFresh(reason: "the backup target is synced and holds no backup of \(volume.name)")
            case .fail: return .fail(reason: "no backup of \(volume.name) exists and onMissingBackup is fail")
            }
        }
    }
}
