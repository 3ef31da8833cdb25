import DRCore
import Foundation

/// What the orchestrator needs from the cluster. The Longhorn adapter implements it over
/// KubeClient; tests use a scripted fake. Every method names the volume it works on in its errors.
public protocol RestorePort: Sendable {
    /// Whether `volumes.longhorn.io/<name>` exists.
    func longhornVolumeExists(_ name: String) async throws -> Bool
    /// For a volume that exists: makes sure it is not a restore that failed or never finished (a
    /// previous run's, cut short: the Job's retry after a failed pod sees the volume it made).
    /// Waits up to `timeout` for an unfinished restore; throws for a failed one, so a broken
    /// volume is never "kept" and the gate never opens on it.
    func settleExisting(_ name: String, timeout: Duration, progress: @escaping @Sendable (String) -> Void) async throws
    /// Whether the cluster-wide skip flag is set to "true".
    func skipFlagSet(_ flag: RestoreConfig.SkipFlag) async throws -> Bool
    /// Within one budget of `timeout`: waits until Longhorn can serve a restore (manager and CSI
    /// rolled out, the target exists: on v1.7 and older Longhorn creates it asynchronously), asks
    /// the target to sync now (bumps `syncRequestedAt`) and waits for that sync.
    /// - Returns: the time the sync was requested (backups count only if synced after it) and the
    ///   target's state; `.notReady` with the reason when the budget ran out.
    func waitForTarget(_ target: String, timeout: Duration) async throws -> (requestedAt: Date, state: VolumeObservation.Target)
    /// Finds the backup the volume's policy asks for, telling "not synced" apart from "none";
    /// waits up to `timeout` for Longhorn's BackupVolume and Backup syncs after `syncedAfter`.
    func findBackup(for volume: RestoreConfig.Volume, target: String, syncedAfter: Date, timeout: Duration) async throws -> VolumeObservation.Backups
    /// Creates the restore Volume and waits until the restore is really done.
    func restore(
        _ volume: RestoreConfig.Volume, from backup: BackupReference, timeout: Duration,
        progress: @escaping @Sendable (String) -> Void) async throws
    /// Creates an empty Volume whose later backups go to `target`, and waits until it is usable.
    func createFresh(_ volume: RestoreConfig.Volume, target: String, timeout: Duration) async throws
    /// Makes sure the PV for the volume exists and is pre-bound to the declared PVC.
    func ensurePersistentVolume(_ volume: RestoreConfig.Volume) async throws
    /// Records the run where people and Flux can see it: one Event per volume and the status
    /// ConfigMap. Called once, after every volume has an outcome; never in a dry run.
    func publish(_ report: RestoreReport) async throws
}

/// One whole run: what the status ConfigMap holds.
public struct RestoreReport: Sendable, Equatable {
    public var startedAt: Date
    public var finishedAt: Date
    public var outcomes: [VolumeOutcome]
    /// Where the report goes: `<namespace>/<configMap>`.
    public var namespace: String
    public var configMap: String

    public init(startedAt: Date, finishedAt: Date, outcomes: [VolumeOutcome], namespace: String, configMap: String) {
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcomes = outcomes
        self.namespace = namespace
        self.configMap = configMap
    }

    public var succeeded: Bool { outcomes.allSatisfy(\.succeeded) }

    /// `3 volume(s): 1 restored, 1 fresh, 1 kept, 0 failed`.
    public var summary: String {
        let counts = Dictionary(grouping: outcomes.filter(\.succeeded), by: \.decision).mapValues(\.count)
        let failed = outcomes.filter { !$0.succeeded }.count
        return "\(outcomes.count) volume(s): \(counts["restore", default: 0]) restored, \(counts["fresh", default: 0]) fresh, "
            + "\(counts["keep-existing", default: 0]) kept, \(failed) failed"
    }

    /// The status ConfigMap's data: `result`, `summary`, times, `volumes.json`, and a line per volume.
    public var configMapData: [String: String] {
        let formatter = ISO8601DateFormatter()
        var data: [String: String] = [
            "result": succeeded ? "succeeded" : "failed", "summary": summary,
            "startedAt": formatter.string(from: startedAt), "finishedAt": formatter.string(from: finishedAt),
        ]
        let rows: [[String: Any]] = outcomes.map { outcome in
            var row: [String: Any] = [
                "volume": outcome.volume, "decision": outcome.decision, "succeeded": outcome.succeeded,
                "durationSeconds": Double(outcome.duration.components.seconds), "message": outcome.message,
            ]
            if let backup = outcome.backup { row["backup"] = backup }
            if let age = outcome.backupAge { row["backupAgeSeconds"] = Double(age.components.seconds) }
            return row
        }
        if let json = try? JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys]) {
            data["volumes.json"] = String(decoding: json, as: UTF8.self)
        }
        for outcome in outcomes { data["volume.\(outcome.volume)"] = outcome.line }
        return data
    }
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
