import Backupstore
import DRCore
import Foundation
import Longhorn

/// What the cluster's Longhorn knows of the backups (its BackupTarget, BackupVolumes and Backup
/// CRs), read once per run, to hold against the store. A restore goes through these objects, not
/// the store: a cluster whose view is behind restores an older backup, and one that lists no
/// backup where the store holds one would start an empty volume. Only read, never written: no sync
/// is requested (that would be a write), so the view is judged against Longhorn's own polling.
public struct ClusterBackupView: Sendable {
    public var target: String
    public var namespace: String
    public var backupTarget: BackupTarget?
    public var backupVolumes: [BackupVolume]
    public var backups: [Backup]
    /// v1.8+: a Backup is usable for a restore only with `status.backupTargetName`.
    public var requireBackupTargetName: Bool

    public init(
        target: String, namespace: String, backupTarget: BackupTarget?, backupVolumes: [BackupVolume], backups: [Backup],
        requireBackupTargetName: Bool
    ) {
        self.target = target
        self.namespace = namespace
        self.backupTarget = backupTarget
        self.backupVolumes = backupVolumes
        self.backups = backups
        self.requireBackupTargetName = requireBackupTargetName
    }

    /// One read of the three lists.
    public static func read(from client: LonghornClient, target: String) async throws -> ClusterBackupView {
        ClusterBackupView(
            target: target, namespace: client.namespace, backupTarget: try await client.get(BackupTarget.self, target),
            backupVolumes: try await client.list(BackupVolume.self), backups: try await client.list(Backup.self),
            requireBackupTargetName: client.version.hasMultipleBackupTargets)
    }

    /// Longhorn lists the store every `spec.pollInterval` (default 5m): a listing older than two
    /// intervals and five minutes means its polling has stopped or fails.
    public var syncTolerance: Duration {
        let poll = backupTarget?.spec?.pollInterval.flatMap(DurationText.parse) ?? .seconds(300)
        return poll * 2 + .seconds(300)
    }

    /// What the cluster would restore for `volume`, held against the store's newest completed
    /// backup (`nil`: the store has none). Returns the cluster's backup name when they agree.
    /// - Throws: ``Disagreement`` saying how they differ.
    public func check(volume: String, storeNewest: BackupConfig?, now: Date) throws(Disagreement) -> String? {
        let since = now.addingTimeInterval(-Double(syncTolerance.components.seconds))
        let lookup: BackupLookup
        do {
            lookup = try LonghornClient.decideBackup(
                volume: volume, target: target, selection: .latest, syncedAfter: since, backupTarget: backupTarget, backupVolumes: backupVolumes,
                backups: backups, namespace: namespace, requireBackupTargetName: requireBackupTargetName)
        } catch {
            throw Disagreement(reason: .clusterMismatch, message: "the cluster's backup objects of \(volume) cannot be used: \(error)")
        }
        let poll = backupTarget?.spec?.pollInterval ?? "5m0s"
        switch lookup {
        case .notSynced(let why):
            var hint = "check BackupTarget \(target) in \(namespace) (kubectl -n \(namespace) get backuptargets.longhorn.io \(target) -o yaml)"
            if let interval = DurationText.parse(poll), interval == .zero {
                hint = "its pollInterval is 0: Longhorn lists the store only when asked; set spec.pollInterval (e.g. 5m0s)"
            }
            throw Disagreement(
                reason: .notSynced,
                message:
                    "the cluster's view of the backups is not current (no listing within \(DurationText.format(syncTolerance)), pollInterval \(poll)): \(why); a restore now would wait for Longhorn's sync or use an older backup; \(hint)"
            )
        case .confirmedNone(let evidence):
            guard let storeNewest else { return nil }
            throw Disagreement(
                reason: .clusterMismatch,
                message:
                    "the cluster lists no completed backup of \(volume) (\(evidence)) though the store holds \(storeNewest.name): a restore now would start an empty volume; check that BackupTarget \(target) points at this store"
            )
        case .found(let backup, _):
            guard let storeNewest else {
                throw Disagreement(
                    reason: .clusterMismatch,
                    message:
                        "the cluster lists backup \(backup.name) of \(volume), which the store does not hold as a completed backup: the cluster's target may point elsewhere, or the store lost it"
                )
            }
            if backup.name == storeNewest.name { return backup.name }
            let storeTime = BackupReader.parseCreatedTime(storeNewest.createdTime)
            if let clusterTime = backup.pointInTime, let storeTime, clusterTime > storeTime {
                throw Disagreement(
                    reason: .clusterMismatch,
                    message:
                        "the cluster's newest backup of \(volume) is \(backup.name), newer than the store's newest \(storeNewest.name): the store lost it, or the cluster's target points elsewhere"
                )
            }
            throw Disagreement(
                reason: .notSynced,
                message:
                    "the cluster would restore \(backup.name), older than the store's newest \(storeNewest.name): Longhorn has not synced the volume's backups since; check BackupTarget \(target)'s pollInterval (\(poll)) and the longhorn-manager logs"
            )
        }
    }

    /// How the cluster and the store disagree.
    public struct Disagreement: Error, Sendable {
        public var reason: AssuranceReport.Reason
        public var message: String
    }
}
