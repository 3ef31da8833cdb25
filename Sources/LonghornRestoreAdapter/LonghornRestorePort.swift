import DRCore
import Foundation
import KubeClient
import KubeModels
import Longhorn
import RestoreOrchestrator
import Synchronization

/// The orchestrator's port implemented over the Kubernetes API and Longhorn (the in-cluster Job
/// and the simulated bootstrap both use it).
public actor LonghornRestorePort: RestorePort {
    let longhorn: LonghornClient
    var kube: KubeClient { longhorn.kube }

    public init(longhorn: LonghornClient) {
        self.longhorn = longhorn
    }

    public func longhornVolumeExists(_ name: String) async throws -> Bool {
        try await kube.getIfPresent(LonghornResources.volumes, namespace: longhorn.namespace, name: name) != nil
    }

    public func settleExisting(_ name: String, timeout: Duration, progress: @escaping @Sendable (String) -> Void) async throws {
        guard let json = try await kube.getIfPresent(LonghornResources.volumes, namespace: longhorn.namespace, name: name) else { return }
        let volume = try Volume(json: json)
        // A volume this tool did not restore (fresh, or adopted) has nothing to settle.
        guard let source = volume.spec.fromBackup, !source.isEmpty else { return }
        let state = RestoreProgress(volume)
        switch state.phase {
        case .done, .finishing:
            // Restored; attached means a workload already uses it.
            return
        case .failed:
            throw LonghornError(
                .restoreFailed, subject: volume.subject, detail: "exists from a restore that failed (\(state)); it holds no trustworthy data",
                hint: "delete it (kubectl -n \(longhorn.namespace) delete volumes.longhorn.io \(name)) and run the Job again: it restores anew")
        case .notStarted, .restoring:
            progress("an earlier run's restore of this volume is unfinished; waiting for it (≤ \(DurationText.format(timeout)))")
            let last = Mutex<String?>(nil)
            _ = try await longhorn.waitForRestore(name, timeout: timeout) { state in
                let line = state.description
                if last.withLock({ previous in
                    defer { previous = line }
                    return previous != line
                }) {
                    progress(line)
                }
            }
        }
    }

    public func skipFlagSet(_ flag: RestoreConfig.SkipFlag) async throws -> Bool {
        let map = try await kube.getIfPresent(.configMaps, namespace: flag.namespace, name: flag.configMap)
        return try flag.isSet(value: map?[path: ["data", flag.key]]?.stringValue)
    }

    public func waitForTarget(_ target: String, timeout: Duration) async throws -> (requestedAt: Date, state: VolumeObservation.Target) {
        do {
            let ready = try await longhorn.waitUntilReadyForRestore(target: target, timeout: timeout)
            return (ready.syncRequestedAt, .synced(at: ready.target.status?.lastSyncedAt.flatMap(LonghornTime.parse) ?? ready.syncRequestedAt))
        } catch {
            guard error.code == .backupTargetUnavailable || error.code == .timeout else { throw error }
            return (Date(), .notReady(error.description))
        }
    }

    public func findBackup(for volume: RestoreConfig.Volume, target: String, syncedAfter: Date, timeout: Duration) async throws -> VolumeObservation.Backups {
        let selection: BackupSelection =
            switch volume.restore {
            case .latest: .latest
            case .backup(let name): .named(name)
            case .asOf(let date): .asOf(date)
            }
        let result: Result<BackupLookup, LonghornError>
        do {
            result = .success(
                try await longhorn.waitForBackupDecision(
                    volume: volume.name, target: target, selection: selection, syncedAfter: syncedAfter, timeout: timeout))
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
                return .found(
                    BackupReference(
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

    public func restore(
        _ volume: RestoreConfig.Volume, from backup: BackupReference, timeout: Duration,
        progress: @escaping @Sendable (String) -> Void
    ) async throws {
        // Read again rather than remembered from findBackup: the port keeps no state between
        // calls, and a Backup deleted since is found out here, before a volume is made from it.
        // The Job is granted list on Backups, not get.
        guard let json = try await kube.listNamed(LonghornResources.backups, namespace: longhorn.namespace, name: backup.name) else {
            throw LonghornError(
                .backupNotFound, subject: "backups.longhorn.io \(longhorn.namespace)/\(backup.name)", detail: "disappeared before the restore")
        }
        let source = try Backup(json: json)
        if !backup.url.isEmpty, let url = source.status?.url, url != backup.url {
            throw LonghornError(
                .conflict, subject: "backups.longhorn.io \(longhorn.namespace)/\(backup.name)",
                detail: "now points at \(url), not the \(backup.url) the decision was made on", hint: "run the Job again: it decides anew")
        }
        _ = try await longhorn.createRestoreVolume(
            name: volume.name, from: source,
            options: VolumeOptions(numberOfReplicas: volume.replicas, accessMode: volume.accessMode.longhornValue))
        // Longhorn sends several updates that read the same; report each state once.
        let last = Mutex<String?>(nil)
        _ = try await longhorn.waitForRestore(volume.name, timeout: timeout) { state in
            let line = state.description
            if last.withLock({ previous in
                defer { previous = line }
                return previous != line
            }) {
                progress(line)
            }
        }
    }

    public func createFresh(_ volume: RestoreConfig.Volume, target: String, timeout: Duration) async throws {
        // The volume's later backups go to the configured target; `default` would be refused by
        // v1.10+'s backup webhook (and tracked on the wrong target by 1.8–1.9).
        _ = try await longhorn.createFreshVolume(
            name: volume.name, sizeBytes: volume.size.bytes,
            options: VolumeOptions(numberOfReplicas: volume.replicas, accessMode: volume.accessMode.longhornValue, backupTargetName: target))
        let namespace = longhorn.namespace
        _ = try await kube.waitFor(
            await kube.informer(LonghornResources.volumes, namespace: namespace), name: volume.name, timeout: timeout,
            until: "created (detached)"
        ) {
            $0?[path: ["status", "state"]]?.stringValue == "detached"
        }
    }

    public func ensurePersistentVolume(_ volume: RestoreConfig.Volume) async throws {
        let live = try await kube.get(LonghornResources.volumes, namespace: longhorn.namespace, name: volume.name)
        let size = Int64(live[path: ["spec", "size"]]?.stringValue ?? "") ?? volume.size.bytes
        _ = try await longhorn.ensurePersistentVolume(
            PersistentVolumeRequest(
                volumeName: volume.name, capacityBytes: max(size, volume.size.bytes), accessMode: volume.accessMode.longhornValue,
                storageClassName: volume.storageClass, fsType: volume.fsType.rawValue,
                claim: ClaimReference(namespace: volume.pvcNamespace, name: volume.pvcName)))
    }
}

extension LonghornRestorePort {
    static let component = "longhorn-dr-restore"

    /// The status ConfigMap by server-side apply (this run's fields replace the last run's), then
    /// one Event per volume on its Longhorn Volume. Every write is tried; the first failure is thrown.
    public func publish(_ report: RestoreReport) async throws {
        var failures: [any Error] = []
        let configMap: JSONValue = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(report.configMap), "namespace": .string(report.namespace),
                "labels": ["app.kubernetes.io/name": "restore-orchestrator", "app.kubernetes.io/managed-by": "longhorn-dr"],
            ],
            "data": .object(report.configMapData.mapValues { .string($0) }),
        ]
        do {
            _ = try await kube.apply(.configMaps, namespace: report.namespace, object: configMap, fieldManager: Self.component, force: true)
        } catch {
            failures.append(error)
        }
        let stamp = ISO8601DateFormatter().string(from: report.finishedAt)
        for (index, outcome) in report.outcomes.enumerated() {
            do {
                _ = try await kube.create(
                    .events, namespace: longhorn.namespace,
                    object: Self.event(
                        outcome, namespace: longhorn.namespace,
                        at: stamp, suffix: String(UInt64(report.finishedAt.timeIntervalSince1970 * 1_000_000) + UInt64(index), radix: 16)))
            } catch {
                failures.append(error)
            }
        }
        if let first = failures.first { throw first }
    }

    static func event(_ outcome: VolumeOutcome, namespace: String, at stamp: String, suffix: String) -> JSONValue {
        let reason =
            switch (outcome.succeeded, outcome.decision) {
            case (false, _): "RestoreFailed"
            case (true, "restore"): "Restored"
            case (true, "fresh"): "ProvisionedFresh"
            default: "KeptExisting"
            }
        let volumes = LonghornResources.volumes
        return [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(outcome.volume).\(suffix)"), "namespace": .string(namespace)],
            "involvedObject": [
                "apiVersion": .string("\(volumes.group)/\(volumes.version)"), "kind": "Volume",
                "name": .string(outcome.volume), "namespace": .string(namespace),
            ],
            "reason": .string(reason), "type": .string(outcome.succeeded ? "Normal" : "Warning"),
            // The apiserver refuses Event messages over 1 KiB.
            "message": .string(String(outcome.line.prefix(1000))),
            "source": ["component": .string(component)], "reportingComponent": .string(component),
            "firstTimestamp": .string(stamp), "lastTimestamp": .string(stamp), "count": 1,
        ]
    }
}
