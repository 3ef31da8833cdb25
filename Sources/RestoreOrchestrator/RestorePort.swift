import DRCore
import Foundation

/// What the orchestrator needs from the cluster. The Longhorn adapter implements it over
/// KubeClient; tests use a scripted fake. Every method names the volume it works on in its errors.
public protocol RestorePort: Sendable {
    /// Whether `volumes.longhorn.io/<name>` exists.
    func longhornVolumeExists(_ name: String) async throws -> Bool
    /// Whether the cluster-wide skip flag is set to "true".
    func skipFlagSet(_ flag: RestoreConfig.SkipFlag) async throws -> Bool
    /// Asks the backup target to sync now (bumps `syncRequestedAt`); returns the request time.
    func requestTargetSync(_ target: String) async throws -> Date
    /// Waits up to `timeout` for the target to be available and synced after `since`.
    func targetState(_ target: String, syncedAfter since: Date, timeout: Duration) async throws -> VolumeObservation.Target
    /// Finds the backup the volume's policy asks for, telling "not synced" apart from "none".
    func findBackup(for volume: RestoreConfig.Volume, target: String) async throws -> VolumeObservation.Backups
    /// Creates the restore Volume and waits until the restore is really done.
    func restore(_ volume: RestoreConfig.Volume, from backup: BackupReference, timeout: Duration,
        progress: @escaping @Sendable (String) -> Void) async throws
    /// Creates an empty Volume and waits until it is usable.
    func createFresh(_ volume: RestoreConfig.Volume, timeout: Duration) async throws
    /// Makes sure the PV for the volume exists and is pre-bound to the declared PVC.
    func ensurePersistentVolume(_ volume: RestoreConfig.Volume) async throws
}

/// What happened to one volume, for the Job log, Events and the status ConfigMap.
public struct VolumeOutcome: Sendable, Equatable {
    public var volume: String
    public var decision: String
    public var backup: String?
    /// Age of the restored data when the restore finished.
    public var backupAge: Duration?
    public var duration: Duration
    public var succeeded: Bool
    public var message: String

    public init(volume: String, decision: String, backup: String?, backupAge: Duration?, duration: Duration, succeeded: Bool, message: String) {
        self.volume = volume
        self.decision = decision
        self.backup = backup
        self.backupAge = backupAge
        self.duration = duration
        self.succeeded = succeeded
        self.message = message
    }

    public var line: String {
        var text = "\(succeeded ? "ok  " : "FAIL") \(volume): \(decision)"
        if let backup { text += " from \(backup)" }
        if let backupAge { text += " (data \(DurationText.format(backupAge)) old)" }
        text += " in \(DurationText.format(duration)) — \(message)"
        return text
    }
}
