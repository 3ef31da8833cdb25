import Foundation

/// Which backup of a volume to restore.
public enum BackupSelection: Sendable, Hashable, CustomStringConvertible {
    /// The newest Completed backup.
    case latest
    /// Exactly this Backup; if it is missing that is an error, never a fallback to another.
    case named(String)
    /// The newest Completed backup taken at or before this time (snapshot time, else upload end).
    case asOf(Date)

    public var description: String {
        switch self {
        case .latest: return "latest Completed backup"
        case .named(let name): return "backup \(name)"
        case .asOf(let date): return "newest Completed backup at or before \(LonghornTime.format(date))"
        }
    }
}

/// The answer to "which backup do I restore?", keeping "Longhorn has not caught up yet" apart
/// from "Longhorn has looked and there is none": confusing the two turns a slow sync into an
/// empty volume (longhorn-facts.md section 12, defect 3).
public enum BackupLookup: Sendable, Hashable {
    /// Restore this Completed backup (its `status.url` is the `fromBackup` value).
    case found(Backup, backupVolume: BackupVolume)
    /// The target and (if any) the volume's folder were synced after the requested time, and hold
    /// no backup: a fresh volume is safe where policy allows it.
    case confirmedNone(NoBackupEvidence)
    /// Not decidable yet: wait (and request a sync), or fail. Never treat this as "no backup".
    case notSynced(NotSyncedReason)
}

/// Why "no backup" is known rather than guessed.
public struct NoBackupEvidence: Sendable, Hashable, CustomStringConvertible {
    public var volume: String
    public var target: String
    public var targetSyncedAt: Date
    /// The volume's BackupVolume, when one exists (then it was synced and lists no backup).
    public var backupVolume: String?
    public var backupVolumeSyncedAt: Date?

    public var description: String {
        var text = "backup target \(target) synced at \(LonghornTime.format(targetSyncedAt))"
        if let backupVolume, let synced = backupVolumeSyncedAt {
            text += "; BackupVolume \(backupVolume) synced at \(LonghornTime.format(synced)) lists no Completed backup of \(volume)"
        } else {
            text += " and holds no backup volume for \(volume)"
        }
        return text
    }
}

/// What Longhorn has not synced yet.
public enum NotSyncedReason: Sendable, Hashable, CustomStringConvertible {
    case targetMissing(target: String)
    case targetUnavailable(target: String, reason: String?)
    case targetNotSynced(target: String, lastSyncedAt: Date?, wanted: Date)
    case backupVolumeNotSynced(name: String, lastSyncedAt: Date?, wanted: Date)
    case backupNotSynced(name: String, state: String)

    public var description: String {
        switch self {
        case .targetMissing(let target):
            return "BackupTarget \(target) does not exist yet"
        case .targetUnavailable(let target, let reason):
            return "BackupTarget \(target) is not available" + (reason.map { ": \($0)" } ?? "")
        case .targetNotSynced(let target, let last, let wanted):
            return "BackupTarget \(target) last synced \(last.map(LonghornTime.format) ?? "never"), not yet after \(LonghornTime.format(wanted))"
        case .backupVolumeNotSynced(let name, let last, let wanted):
            return "BackupVolume \(name) last synced \(last.map(LonghornTime.format) ?? "never"), not yet after \(LonghornTime.format(wanted))"
        case .backupNotSynced(let name, let state):
            return "Backup \(name) is not synced from the store yet (state \(state.isEmpty ? "empty" : state))"
        }
    }
}
