import DRCore
import Foundation
import KubeClient
import KubeModels
import Longhorn

/// The orchestrator's port implemented over the Kubernetes API and Longhorn (the in-cluster Job
/// and the simulated bootstrap both use it).
public actor LonghornRestorePort: RestorePort {
    let longhorn: LonghornClient
    var kube: KubeClient { longhorn.kube }
    /// When this run asked the target to sync; backups count only if synced after it.
    private var syncRequestedAt: Date?
    /// Backups found by `findBackup`, by name, so the restore uses Longhorn's own object.
    private var found: [String: Backup] = [:]

    public init(longhorn: LonghornClient) {
        self.longhorn = longhorn
    }

    public func longhornVolumeExists(_ name: String) async throws -> Bool {
        try await kube.getIfPresent(LonghornResources.volumes, namespace: longhorn.namespace, name: name) != nil
    }

    public func skipFlagSet(_ flag: RestoreConfig.SkipFlag) async throws -> Bool {
        guard let map = try await kube.getIfPresent(.configMaps, namespace: flag.namespace, name: flag.configMap) else { return false }
        return map[path: ["data", flag.key]]?.stringValue?.lowercased() == "true"
    }

    public func requestTargetSync(_ target: String) async throws -> Date {
        let time = try await longhorn.requestBackupTargetSync(target)
        syncRequestedAt = time
        return time
    }

    public func targetState(_ target: String, syncedAfter since: Date, timeout: Duration) async throws -> VolumeObservation.Target {
        let outcome: Result<BackupTarget, LonghornError>
        do {
            outcome = .success(try await longhorn.waitForBackupTarget(target, syncedAfter: since, timeout: timeout))
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let synced):
            return .synced(at: synced.status?.lastSyncedAt.flatMap(LonghornTime.parse) ?? since)
        case .failure(let error):
            guard error.code == .backupTargetUnavailable else { throw error }
            return .notReady(error.description)
        }
    }

    public func findBackup(for volume: RestoreConfig.Volume, target: String) async throws -> VolumeObservation.Backups {
        let selection: BackupSelection = switch volume.restore {
        case .latest: .latest
        case .backup(let name): .named(name)
        case .asOf(let date): .asOf(date)
        }
        let result: Result<BackupLookup, LonghornError>
        do {
            result = .success(try await longhorn.waitForBackupDecision(
                volume: volume.name, target: target, selection: selection, syncedAfter: syncRequestedAt ?? Date(), timeout: .seconds(120)))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .failure(let error):
            guard error.code == .backupNotFound || error.code == .notFound else { throw error }
            return .noMatch(error.description)
        case .success(let lookup):
            switch lookup {
            case .found(let backup, _):
                found[backup.metadata.name] = backup
                return .found(BackupReference(
                    name: backup.metadata.name, url: backup.status?.url ?? "",
                    snapshotCreatedAt: backup.status?.snapshotCreatedAt.flatMap(LonghornTime.parse),
                    volumeSize: backup.status?.volumeSize.flatMap { Int64($0) }))
            case .confirmedNone:
                return .confirmedNone
            case .notSynced(let reason):
                return .notSynced(reason.description)
            }
        }
    }

    public func restore(_ volume: RestoreConfig.Volume, from backup: BackupReference, timeout: Duration,
        progress: @escaping @Sendable (String) -> Void) async throws
    {
        let source: Backup
        if let cached = found[backup.name] {
            source = cached
        } else {
            source = try Backup(json: try await kube.get(LonghornResources.backups, namespace: longhorn.namespace, name: backup.name))
        }
        _ = try await longhorn.createRestoreVolume(name: volume.name, from: source,
            options: VolumeOptions(numberOfReplicas: volume.replicas, accessMode: volume.accessMode.longhornValue))
        _ = try await longhorn.waitForRestore(volume.name, timeout: timeout) { progress($0.description) }
    }

    public func createFresh(_ volume: RestoreConfig.Volume, timeout: Duration) async throws {
        _ = try await longhorn.createFreshVolume(name: volume.name, sizeBytes: volume.size.bytes,
            options: VolumeOptions(numberOfReplicas: volume.replicas, accessMode: volume.accessMode.longhornValue))
        let namespace = longhorn.namespace
        _ = try await kube.waitFor(LonghornResources.volumes, namespace: namespace, name: volume.name, timeout: timeout, until: "created (detached)") {
            $0?[path: ["status", "state"]]?.stringValue == "detached"
        }
    }

    public func ensurePersistentVolume(_ volume: RestoreConfig.Volume) async throws {
        let live = try await kube.get(LonghornResources.volumes, namespace: longhorn.namespace, name: volume.name)
        let size = Int64(live[path: ["spec", "size"]]?.stringValue ?? "") ?? volume.size.bytes
        _ = try await longhorn.ensurePersistentVolume(PersistentVolumeRequest(
            volumeName: volume.name, capacityBytes: max(size, volume.size.bytes), accessMode: volume.accessMode.longhornValue,
            storageClassName: volume.storageClass, fsType: volume.fsType.rawValue,
            claim: ClaimReference(namespace: volume.pvcNamespace, name: volume.pvcName)))
    }
}
