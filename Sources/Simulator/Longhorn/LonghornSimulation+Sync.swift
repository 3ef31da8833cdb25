import Backupstore
import Foundation
import KubeModels

/// The three asynchronous hops between "backup target configured" and "Backup usable for a
/// restore" (longhorn-facts.md 1.3): target → BackupVolumes → Backups, each in a pass of its own
/// `syncHopDelay` after the previous one (longhorn-manager controller/backup_target_controller.go,
/// backup_volume_controller.go, backup_controller.go).
extension LonghornSimulation {
    /// Due when never synced, when a sync was requested after the last one (Go's `After`, not
    /// `>=`: a request in the same second as the last sync asks for nothing), or when the poll
    /// interval has passed.
    func syncDue(lastSynced: String?, requested: String?) -> Bool {
        guard let last = Self.date(lastSynced) else { return true }
        if let asked = Self.date(requested), asked > last { return true }
        let interval = options.pollInterval
        if interval > .zero, store.now().timeIntervalSince(last) >= Double(interval.components.seconds) { return true }
        return false
    }

    /// Whether `syncHopDelay` has passed since `time` (the previous hop): each hop is a pass of its own.
    func hopElapsed(since time: String?) -> Bool {
        guard let since = Self.date(time) else { return true }
        let delay = options.syncHopDelay.components
        return store.now().timeIntervalSince(since) >= Double(delay.seconds) + Double(delay.attoseconds) / 1e18
    }

    func targetURL(_ targetName: String) async -> String? {
        guard let targets = await store.type(group: LonghornCRDs.group, resource: "backuptargets"),
            let target = await store.find(targets, namespace: namespace, name: targetName),
            let url = target[path: ["spec", "backupTargetURL"]]?.stringValue, !url.isEmpty
        else { return nil }
        return url
    }

    func objectStore(for url: String) async -> (any ObjectStore)? {
        if await faults.storeUnreachable { return nil }
        return options.storeResolver(url)
    }

    func reconcileTargets() async throws {
        let targets = try await type(LonghornCRDs.group, "backuptargets")
        let settings = try await type(LonghornCRDs.group, "settings")
        // ≤1.7 (controller/setting_controller.go): BackupTarget default is made from the Settings
        // asynchronously after the manager starts, not at install time.
        if personality.targetInSettings, await store.find(targets, namespace: namespace, name: "default") == nil {
            let setting = await store.find(settings, namespace: namespace, name: "backup-target")
            if let setting, hopElapsed(since: setting[path: ["metadata", "creationTimestamp"]]?.stringValue) {
                let secret = await store.find(settings, namespace: namespace, name: "backup-target-credential-secret")?["value"]?.stringValue ?? ""
                _ = try? await store.create(
                    targets, namespace: namespace,
                    object: defaultBackupTarget(url: setting["value"]?.stringValue ?? "", credentialSecret: secret))
            }
        }
        for target in try await store.list(targets, namespace: namespace).items {
            guard let name = target[path: ["metadata", "name"]]?.stringValue else { continue }
            if personality.targetInSettings, name == "default" {
                // ≤1.7: the Setting controller rewrites the default target from the Settings.
                let url = await store.find(settings, namespace: namespace, name: "backup-target")?["value"]?.stringValue ?? ""
                if target[path: ["spec", "backupTargetURL"]]?.stringValue != url {
                    await setSpec(targets, name) { $0[path: ["spec", "backupTargetURL"]] = .string(url) }
                    continue
                }
            }
            guard let url = target[path: ["spec", "backupTargetURL"]]?.stringValue, !url.isEmpty,
                syncDue(lastSynced: target[path: ["status", "lastSyncedAt"]]?.stringValue, requested: target[path: ["spec", "syncRequestedAt"]]?.stringValue)
            else { continue }
            let layout = BackupstoreLayout(targetURL: url)
            guard let objects = await objectStore(for: url), let keys = try? await objects.list(prefix: layout.volumesRoot) else {
                await setStatus(targets, name) { status in
                    status["available"] = false
                    status["conditions"] = [
                        [
                            "type": "Unavailable", "status": "True", "reason": "Unavailable",
                            "message": .string("failed to list backup volumes in \(url): cannot reach the backup store"),
                        ]
                    ]
                }
                continue
            }
            if personality.backupNeedsAvailableTarget, target[path: ["status", "available"]]?.boolValue != true {
                // 1.9+: flipping to available is a pass of its own; the listing comes next (#11337).
                await setStatus(targets, name) { status in
                    status["available"] = true
                    status["conditions"] = []
                }
                continue
            }
            let volumes = Set(keys.compactMap { layout.volumeName(fromConfigKey: $0) })
            try await ensureBackupVolumes(volumes, target: name)
            let stamp = now
            await setStatus(targets, name) { status in
                status["available"] = true
                status["conditions"] = []
                status["lastSyncedAt"] = .string(stamp)
            }
        }
    }

    /// Whether `bv` is the BackupVolume of `volume` on `target`: by labels or spec (1.8+), by name (≤1.7).
    func isBackupVolume(_ bv: JSONValue, of volume: String, on target: String) -> Bool {
        guard personality.labelsBackupVolumes else { return bv[path: ["metadata", "name"]]?.stringValue == volume }
        let labels = bv[path: ["metadata", "labels"]]
        if labels?["backup-volume"]?.stringValue == volume, labels?["backup-target"]?.stringValue == target { return true }
        return bv[path: ["spec", "volumeName"]]?.stringValue == volume && (bv[path: ["spec", "backupTargetName"]]?.stringValue ?? target) == target
    }

    private func ensureBackupVolumes(_ volumes: Set<String>, target: String) async throws {
        let backupVolumes = try await type(LonghornCRDs.group, "backupvolumes")
        let existing = try await store.list(backupVolumes, namespace: namespace).items
        let stamp = now
        for volume in volumes.sorted() {
            let match = existing.first { isBackupVolume($0, of: volume, on: target) }
            if let match, let name = match[path: ["metadata", "name"]]?.stringValue {
                // A request still pending keeps its time: the hop delay counts from the oldest
                // unserved request, so a poll faster than the hop cannot starve the BackupVolume.
                let pending =
                    syncDue(
                        lastSynced: match[path: ["status", "lastSyncedAt"]]?.stringValue,
                        requested: match[path: ["spec", "syncRequestedAt"]]?.stringValue) && match[path: ["spec", "syncRequestedAt"]] != nil
                if !pending { await setSpec(backupVolumes, name) { $0[path: ["spec", "syncRequestedAt"]] = .string(stamp) } }
                continue
            }
            var object: JSONValue = [
                "metadata": ["name": .string(personality.backupVolumeName(volume: volume, target: target))],
                "spec": ["syncRequestedAt": .string(stamp)],
            ]
            if personality.labelsBackupVolumes {
                object[path: ["metadata", "labels"]] = ["backup-volume": .string(volume), "backup-target": .string(target)]
                object[path: ["spec", "volumeName"]] = .string(volume)
                object[path: ["spec", "backupTargetName"]] = .string(target)
            }
            _ = try? await store.create(backupVolumes, namespace: namespace, object: object)
        }
    }

    func reconcileBackupVolumes() async throws {
        let backupVolumes = try await type(LonghornCRDs.group, "backupvolumes")
        let backups = try await type(LonghornCRDs.group, "backups")
        for bv in try await store.list(backupVolumes, namespace: namespace).items {
            // controller/backup_volume_controller.go: its own pass, after the target's listing asked for it.
            guard let name = bv[path: ["metadata", "name"]]?.stringValue,
                syncDue(lastSynced: bv[path: ["status", "lastSyncedAt"]]?.stringValue, requested: bv[path: ["spec", "syncRequestedAt"]]?.stringValue),
                hopElapsed(since: bv[path: ["spec", "syncRequestedAt"]]?.stringValue ?? bv[path: ["metadata", "creationTimestamp"]]?.stringValue)
            else { continue }
            let volume = bv[path: ["spec", "volumeName"]]?.stringValue ?? bv[path: ["metadata", "labels", "backup-volume"]]?.stringValue ?? name
            let targetName =
                bv[path: ["spec", "backupTargetName"]]?.stringValue ?? bv[path: ["metadata", "labels", "backup-target"]]?.stringValue ?? "default"
            guard let url = await targetURL(targetName), let objects = await objectStore(for: url) else { continue }
            let reader = BackupReader(store: objects, layout: BackupstoreLayout(targetURL: url))
            guard let names = try? await reader.listBackups(volume: volume), let config = try? await reader.volumeConfig(volume) else {
                let message = JSONValue.string("failed to read the backup volume \(volume) from the store")
                await setStatus(backupVolumes, name) { $0["messages"] = ["error": message] }
                continue
            }
            let uid = bv[path: ["metadata", "uid"]] ?? ""
            for backup in names where await store.find(backups, namespace: namespace, name: backup) == nil {
                var labels: JSONValue = ["backup-volume": .string(volume)]
                if personality.labelsBackupVolumes { labels["backup-target"] = .string(targetName) }
                _ = try? await store.create(
                    backups, namespace: namespace,
                    object: [
                        "metadata": [
                            "name": .string(backup), "labels": labels,
                            "ownerReferences": [["apiVersion": "longhorn.io/v1beta2", "kind": "BackupVolume", "name": .string(name), "uid": uid]],
                        ],
                        "spec": ["snapshotName": "", "labels": [:]],
                    ])
            }
            let stamp = now
            await setStatus(backupVolumes, name) { status in
                status["lastBackupName"] = .string(config.lastBackupName)
                status["lastBackupAt"] = .string(config.lastBackupAt)
                status["size"] = .string(String(config.size))
                status["dataStored"] = .string(String(config.blockCount))
                status["createdAt"] = .string(config.createdTime)
                status["storageClassName"] = .string(config.storageClassName)
                status["labels"] = .object((config.labels ?? [:]).mapValues { .string($0) })
                status["lastModificationTime"] = .string(stamp)
                status["lastSyncedAt"] = .string(stamp)
            }
        }
    }

    /// Pulled Backups get their status from the cfg; user Backups are started here and run as jobs.
    func reconcileBackups() async throws -> [Job] {
        let backups = try await type(LonghornCRDs.group, "backups")
        var jobs: [Job] = []
        for backup in try await store.list(backups, namespace: namespace).items {
            guard let name = backup[path: ["metadata", "name"]]?.stringValue else { continue }
            let snapshot = backup[path: ["spec", "snapshotName"]]?.stringValue ?? ""
            let state = backup[path: ["status", "state"]]?.stringValue ?? ""
            if snapshot.isEmpty {
                // controller/backup_controller.go: a pulled Backup is read from the store in a later pass.
                guard
                    syncDue(
                        lastSynced: backup[path: ["status", "lastSyncedAt"]]?.stringValue, requested: backup[path: ["spec", "syncRequestedAt"]]?.stringValue),
                    hopElapsed(since: backup[path: ["metadata", "creationTimestamp"]]?.stringValue),
                    let volume = backup[path: ["metadata", "labels", "backup-volume"]]?.stringValue
                else { continue }
                let targetName = backup[path: ["metadata", "labels", "backup-target"]]?.stringValue ?? "default"
                guard let url = await targetURL(targetName), let objects = await objectStore(for: url) else { continue }
                let reader = BackupReader(store: objects, layout: BackupstoreLayout(targetURL: url))
                guard let config = try? await reader.backupConfig(volume: volume, backup: name),
                    let volumeConfig = try? await reader.volumeConfig(volume)
                else { continue }
                let stamp = now
                let labelTarget = personality.labelsBackupVolumes ? targetName : nil
                await setStatus(backups, name) { status in
                    Self.fillStatus(
                        &status, config: config, volumeSize: volumeConfig.size, url: Self.backupURL(url, backup: name, volume: volume), target: labelTarget)
                    status["lastSyncedAt"] = .string(stamp)
                }
            } else if state.isEmpty || state == "Pending" {
                jobs.append(.backup(name))
            }
        }
        return jobs
    }

    static func backupURL(_ target: String, backup: String, volume: String) -> String {
        "\(target)?backup=\(backup)&volume=\(volume)"
    }

    static func fillStatus(_ status: inout JSONValue, config: BackupConfig, volumeSize: Int64, url: String, target: String?) {
        status["state"] = .string(config.isInProgress ? "InProgress" : "Completed")
        status["progress"] = config.isInProgress ? 0 : 100
        status["url"] = .string(url)
        status["snapshotName"] = .string(config.snapshotName)
        status["snapshotCreatedAt"] = .string(config.snapshotCreatedAt)
        status["backupCreatedAt"] = .string(config.createdTime)
        status["size"] = .string(String(config.size))
        status["volumeName"] = .string(config.volumeName)
        status["volumeSize"] = .string(String(volumeSize))
        status["labels"] = .object((config.labels ?? [:]).mapValues { .string($0) })
        status["compressionMethod"] = .string(config.compressionMethod.rawValue)
        if let target { status["backupTargetName"] = .string(target) }
    }
}
