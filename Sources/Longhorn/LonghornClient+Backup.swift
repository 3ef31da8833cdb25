import Foundation
import KubeClient
import KubeModels

extension LonghornClient {
    /// Creates a Snapshot CR that takes a snapshot (`createSnapshot: true`).
    /// - Parameter name: defaults to `snap-` plus 16 random hex digits.
    public func createSnapshot(volume: String, name: String? = nil, labels: [String: String] = [:]) async throws(LonghornError) -> Snapshot {
        let name = name ?? "snap-" + Self.randomHex(bytes: 8)
        return try await create(
            LonghornManifests.snapshot(name: name, namespace: namespace, volume: volume, labels: labels),
            hint: "check that volume \(volume) exists in \(namespace)")
    }

    /// Waits for `readyToUse`. `status.error` alone does not end the wait (Longhorn reports
    /// "waiting for the volume to be attached" there while it attaches a detached volume), but it
    /// is in the timeout message; a snapshot marked removed, or a CR that vanished, fails at once.
    public func waitForSnapshot(_ name: String, timeout: Duration) async throws(LonghornError) -> Snapshot {
        let namespace = namespace
        return try await wait(
            Snapshot.self, name, timeout: timeout, until: "readyToUse",
            hint: "check `kubectl -n \(namespace) get snapshots.longhorn.io \(name) -o yaml` and that its volume can attach"
        ) { snapshot in
            guard let snapshot else {
                return .failed(
                    LonghornError(
                        .snapshotFailed, subject: Snapshot.subject(namespace, name),
                        detail: "disappeared before becoming ready; Longhorn deletes Snapshot CRs that match no engine snapshot",
                        hint: "create Snapshot CRs with spec.createSnapshot: true (this tool does)"))
            }
            if snapshot.status?.readyToUse == true { return .done(snapshot) }
            if snapshot.status?.markRemoved == true {
                return .failed(
                    LonghornError(
                        .snapshotFailed, subject: snapshot.subject,
                        detail: "was marked removed before becoming ready\(snapshot.status?.error.map { ": \($0)" } ?? "")"))
            }
            if let error = snapshot.status?.error, !error.isEmpty { return .waiting("not ready; Longhorn says: \(error)") }
            return .waiting(snapshot.status == nil ? "not reconciled by Longhorn yet (no status)" : "not ready yet")
        }
    }

    /// Creates a Backup of `snapshot`. Checks first what the webhook would check, so the
    /// failure names the cause: on v1.9+ the BackupTarget must be available.
    /// - Parameter name: defaults to `backup-` plus 16 random hex digits.
    /// - Throws: `.backupTargetUnavailable` (v1.9+), `.invalidArgument` for a bad name, or the
    ///   webhook's refusal text.
    public func createBackup(
        snapshot: String, volume: String, target: String = LonghornResources.defaultBackupTarget, name: String? = nil, mode: String? = nil
    ) async throws(LonghornError) -> Backup {
        let name = name ?? Backup.generateName()
        let backup = try LonghornManifests.backup(
            name: name, namespace: namespace, snapshot: snapshot, volume: volume,
            target: target, mode: mode, version: version)
        if version.backupRequiresAvailableTarget {
            let backupTarget = try await get(BackupTarget.self, target)
            guard let backupTarget, backupTarget.isAvailable else {
                throw LonghornError(
                    .backupTargetUnavailable, subject: BackupTarget.subject(namespace, target),
                    detail: backupTarget == nil ? "does not exist" : "is not available: \(backupTarget?.unavailableReason ?? "Longhorn gave no reason")",
                    hint: "Longhorn \(version) refuses backups until the target is available; check its URL, credential Secret and the store")
            }
        }
        return try await create(backup, hint: "Longhorn's backup webhook refused it; check the volume, snapshot and backup target named above")
    }

    /// Waits for a final state: `Completed`, or a failure on `Error`, `Unknown`, `Deleting`, or
    /// the CR vanishing (failed backups are garbage-collected after `failed-backup-ttl`).
    /// - Parameter progress: told the state and percentage on every change.
    public func waitForBackup(
        _ name: String, timeout: Duration, progress: @escaping @Sendable (Backup) -> Void = { _ in }
    ) async throws(LonghornError) -> Backup {
        let namespace = namespace
        return try await wait(
            Backup.self, name, timeout: timeout, until: "Completed",
            hint: "large volumes need longer: raise the backup timeout; see `kubectl -n \(namespace) get backups.longhorn.io \(name) -o yaml`"
        ) { backup in
            guard let backup else {
                return .failed(
                    LonghornError(
                        .backupFailed, subject: Backup.subject(namespace, name),
                        detail: "disappeared before completing (Longhorn deletes failed backups after the failed-backup-ttl setting)"))
            }
            progress(backup)
            if backup.isCompleted { return .done(backup) }
            if backup.hasFailed {
                return .failed(
                    LonghornError(
                        .backupFailed, subject: backup.subject, detail: "ended \(backup.state): \(backup.errorText)",
                        hint: "check the backup target and `kubectl -n \(namespace) logs -l app=longhorn-manager`"))
            }
            let state = backup.state.isEmpty ? "not started" : backup.state
            return .waiting("\(state) at \(backup.status?.progress ?? 0)%\(backup.status?.error.flatMap { $0.isEmpty ? nil : "; Longhorn says: \($0)" } ?? "")")
        }
    }

    static func randomHex(bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
