import Foundation
import KubeModels

/// Longhorn's mutating and validating webhooks for the rules that bite a DR tool
/// (longhorn-facts.md sections 2.4, 3, 4.2, 4.3), per version personality.
struct LonghornWebhook: AdmissionPlugin {
    let personality: LonghornPersonality

    func admit(_ object: inout JSONValue, operation: AdmissionOperation, type: ResourceType, old: JSONValue?, store: isolated ClusterStore) throws(APIError) {
        guard type.group == LonghornCRDs.group, operation == .create else { return }
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue ?? ""
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        switch type.resource {
        case "volumes": try admitVolume(&object, name: name, namespace: namespace, store: store)
        case "backups": try admitBackup(&object, name: name, namespace: namespace, store: store)
        case "snapshots":
            // webhook/resources/snapshot/{mutator,validator}.go: the volume must exist.
            guard let volume = object[path: ["spec", "volume"]]?.stringValue, !volume.isEmpty else {
                throw Self.denied("snapshots", name, "spec.volume is required")
            }
            guard let volumes = store.type(group: LonghornCRDs.group, resource: "volumes"),
                store.find(volumes, namespace: namespace, name: volume) != nil
            else {
                throw Self.denied("snapshots", name, "failed to get volume \(volume): volumes.longhorn.io \"\(volume)\" not found")
            }
            object[path: ["metadata", "labels", "longhornvolume"]] = .string(volume)
        default: break
        }
    }

    /// The apiserver's answer when an admission webhook refuses an object.
    static func denied(_ resource: String, _ name: String, _ message: String) -> APIError {
        APIError(
            code: 400, reason: "BadRequest",
            message: "admission webhook \"validator.longhorn.io\" denied the request: \(message)",
            details: KubeStatus.Details(name: name, group: "longhorn.io", kind: resource))
    }

    private func admitVolume(_ volume: inout JSONValue, name: String, namespace: String, store: isolated ClusterStore) throws(APIError) {
        // Mutator defaults.
        if volume[path: ["spec", "numberOfReplicas"]] == nil { volume[path: ["spec", "numberOfReplicas"]] = 3 }
        if volume[path: ["spec", "dataEngine"]] == nil { volume[path: ["spec", "dataEngine"]] = "v1" }
        if volume[path: ["spec", "backupCompressionMethod"]] == nil { volume[path: ["spec", "backupCompressionMethod"]] = "lz4" }
        if volume[path: ["spec", "dataLocality"]] == nil { volume[path: ["spec", "dataLocality"]] = "disabled" }
        if personality.atLeast(1, 8), volume[path: ["spec", "backupTargetName"]] == nil { volume[path: ["spec", "backupTargetName"]] = "default" }
        // webhook/resources/volume/validator.go: Longhorn's name rule (util.ValidateName).
        guard Self.isValidName(name) else { throw Self.denied("volumes", name, "invalid name \(name)") }

        if let url = volume[path: ["spec", "fromBackup"]]?.stringValue, !url.isEmpty {
            let query = URLComponents(string: url)?.queryItems ?? []
            let backupName = query.first { $0.name == "backup" }?.value ?? ""
            let storeVolume = query.first { $0.name == "volume" }?.value ?? ""
            guard let backups = store.type(group: LonghornCRDs.group, resource: "backups"),
                let backup = store.find(backups, namespace: namespace, name: backupName)
            else {
                throw Self.denied("volumes", name, "cannot get backup \(backupName): backups.longhorn.io \"\(backupName)\" not found")
            }
            let targetName = backup[path: ["status", "backupTargetName"]]?.stringValue ?? ""
            guard let backupVolumes = store.type(group: LonghornCRDs.group, resource: "backupvolumes") else { return }
            let all = (try? store.list(backupVolumes, namespace: namespace).items) ?? []
            let found: JSONValue?
            if personality.labelsBackupVolumes {
                found =
                    targetName.isEmpty
                    ? nil
                    : all.first {
                        $0[path: ["metadata", "labels", "backup-volume"]]?.stringValue == storeVolume
                            && $0[path: ["metadata", "labels", "backup-target"]]?.stringValue == targetName
                    }
            } else {
                found = all.first { $0[path: ["metadata", "name"]]?.stringValue == storeVolume }
            }
            guard found != nil else {
                throw Self.denied(
                    "volumes", name, "cannot get backup volume \(storeVolume) of backup target \(targetName.isEmpty ? "\"\"" : targetName): not found")
            }
            // The backup decides the size; an unsynced Backup has none, and size 0 is invalid. From
            // v1.12 the BackupVolume's status.size wins when set (volume mutator, restore path).
            volume[path: ["spec", "size"]] = backup[path: ["status", "volumeSize"]] ?? "0"
            if personality.atLeast(1, 12), let size = found?[path: ["status", "size"]]?.stringValue, (Int64(size) ?? 0) > 0 {
                volume[path: ["spec", "size"]] = .string(size)
            }
            // 1.8+: the restored volume belongs to the Backup's target, whatever the request said.
            if personality.atLeast(1, 8), !targetName.isEmpty { volume[path: ["spec", "backupTargetName"]] = .string(targetName) }
            volume[path: ["metadata", "labels", "backup-volume"]] = .string(storeVolume)
            if personality.atLeast(1, 8) { volume[path: ["metadata", "labels", "backup-target"]] = .string(targetName.isEmpty ? "default" : targetName) }
            if volume[path: ["spec", "accessMode"]] == nil {
                volume[path: ["spec", "accessMode"]] = backup[path: ["status", "labels", "longhorn.io/volume-access-mode"]] ?? "rwo"
            }
        }
        if volume[path: ["spec", "accessMode"]] == nil { volume[path: ["spec", "accessMode"]] = "rwo" }

        // Validator.
        let standby = volume[path: ["spec", "Standby"]]?.boolValue ?? false
        let frontend = volume[path: ["spec", "frontend"]]?.stringValue ?? ""
        if !standby, !personality.allowedFrontends.contains(frontend) {
            throw Self.denied("volumes", name, "invalid volume frontend specified: \(frontend)")
        }
        let size = Int64(volume[path: ["spec", "size"]]?.stringValue ?? "") ?? 0
        if volume[path: ["spec", "size"]]?.stringValue == nil, volume[path: ["spec", "size"]] != nil {
            throw Self.denied("volumes", name, "json: cannot unmarshal number into Go struct field VolumeSpec.spec.size of type string")
        }
        if size <= 0 { throw Self.denied("volumes", name, "invalid volume size \(size)") }
        // v1.10+: the size must be a multiple of the backup block size (2 MiB), or backups could not cover it.
        if personality.atLeast(1, 10), size % (2 << 20) != 0 {
            throw Self.denied("volumes", name, "volume size \(size) must be a multiple of 2097152 bytes (the backup block size)")
        }
        if (volume[path: ["spec", "numberOfReplicas"]]?.intValue ?? 0) <= 0 {
            throw Self.denied("volumes", name, "invalid replica count \(volume[path: ["spec", "numberOfReplicas"]]?.jsonText ?? "0")")
        }
        // rwop (ReadWriteOncePod) exists from v1.11 (types.AccessModeReadWriteOncePod).
        let accessModes = personality.atLeast(1, 11) ? ["rwo", "rwx", "rwop"] : ["rwo", "rwx"]
        if !accessModes.contains(volume[path: ["spec", "accessMode"]]?.stringValue ?? "") {
            throw Self.denied("volumes", name, "invalid access mode \(volume[path: ["spec", "accessMode"]]?.jsonText ?? "")")
        }
    }

    private func admitBackup(_ backup: inout JSONValue, name: String, namespace: String, store: isolated ClusterStore) throws(APIError) {
        var volumeName = backup[path: ["metadata", "labels", "backup-volume"]]?.stringValue
        if volumeName == nil, !personality.backupNeedsVolumeLabel, let snapshotName = backup[path: ["spec", "snapshotName"]]?.stringValue,
            let snapshots = store.type(group: LonghornCRDs.group, resource: "snapshots"),
            let snapshot = store.find(snapshots, namespace: namespace, name: snapshotName)
        {
            volumeName = snapshot[path: ["spec", "volume"]]?.stringValue
            backup[path: ["metadata", "labels", "backup-volume"]] = volumeName.map { .string($0) }
        }
        guard let volumeName else {
            // Longhorn builds this refusal from a nil error (issue #13722); clients see the call fail.
            throw APIError(
                code: 500, reason: "InternalError",
                message:
                    "Internal error occurred: failed calling webhook \"mutator.longhorn.io\": failed to call webhook: Post \"https://longhorn-admission-webhook.longhorn-system.svc:9502/v1/webhook/mutation?timeout=10s\": EOF"
            )
        }
        if personality.atLeast(1, 8) {
            if !Self.isValidName(name) { throw Self.denied("backups", name, "invalid name \(name)") }
            if backup[path: ["metadata", "labels", "backup-target"]] == nil {
                let volumes = store.type(group: LonghornCRDs.group, resource: "volumes")
                let target =
                    volumes.flatMap { store.find($0, namespace: namespace, name: volumeName) }?[path: ["spec", "backupTargetName"]]?.stringValue ?? "default"
                backup[path: ["metadata", "labels", "backup-target"]] = .string(target)
            }
        }
        if personality.backupNeedsAvailableTarget {
            let targetName = backup[path: ["metadata", "labels", "backup-target"]]?.stringValue ?? "default"
            let targets = store.type(group: LonghornCRDs.group, resource: "backuptargets")
            let target = targets.flatMap { store.find($0, namespace: namespace, name: targetName) }
            guard let target else { throw Self.denied("backups", name, "failed to get backup target \(targetName)") }
            guard target[path: ["status", "available"]]?.boolValue == true else {
                throw Self.denied("backups", name, "backup target \(targetName) is not available")
            }
        }
        if personality.atLeast(1, 10) {
            // webhook/resources/backup/validator.go (v1.10+): the snapshot exists, belongs to the
            // labelled volume, and that volume backs up to the labelled target.
            let snapshotName = backup[path: ["spec", "snapshotName"]]?.stringValue ?? ""
            if !snapshotName.isEmpty {
                let snapshots = store.type(group: LonghornCRDs.group, resource: "snapshots")
                guard let snapshot = snapshots.flatMap({ store.find($0, namespace: namespace, name: snapshotName) }) else {
                    throw Self.denied("backups", name, "failed to get snapshot \(snapshotName): snapshots.longhorn.io \"\(snapshotName)\" not found")
                }
                let owner = snapshot[path: ["spec", "volume"]]?.stringValue ?? ""
                guard owner == volumeName else {
                    throw Self.denied("backups", name, "snapshot \(snapshotName) belongs to volume \(owner), not to backup-volume \(volumeName)")
                }
                let volumes = store.type(group: LonghornCRDs.group, resource: "volumes")
                if let volume = volumes.flatMap({ store.find($0, namespace: namespace, name: volumeName) }) {
                    let volumeTarget = volume[path: ["spec", "backupTargetName"]]?.stringValue ?? "default"
                    let labelTarget = backup[path: ["metadata", "labels", "backup-target"]]?.stringValue ?? "default"
                    guard volumeTarget == labelTarget else {
                        throw Self.denied(
                            "backups", name, "backup target \(labelTarget) of the backup does not match backup target \(volumeTarget) of volume \(volumeName)")
                    }
                }
            }
        }
        if personality.atLeast(1, 12) {
            let targetName = backup[path: ["metadata", "labels", "backup-target"]]?.stringValue ?? "default"
            let targets = store.type(group: LonghornCRDs.group, resource: "backuptargets")
            let url = targets.flatMap { store.find($0, namespace: namespace, name: targetName) }?[path: ["spec", "backupTargetURL"]]?.stringValue ?? ""
            if url.isEmpty { throw Self.denied("backups", name, "backup target \(targetName) has no URL; cannot back up") }
        }
        if let mode = backup[path: ["spec", "backupMode"]]?.stringValue, personality.atLeast(1, 7), !["full", "incremental"].contains(mode) {
            throw Self.denied("backups", name, "invalid backup mode \(mode): must be full or incremental")
        }
        if backup[path: ["spec", "backupMode"]] == nil, personality.atLeast(1, 7) { backup[path: ["spec", "backupMode"]] = "incremental" }
        backup[path: ["spec", "labels", "longhorn.io/volume-access-mode"]] = backup[path: ["spec", "labels", "longhorn.io/volume-access-mode"]] ?? "rwo"
    }

    /// Longhorn's `util.ValidateName`: `^[a-z0-9][a-z0-9_.-]+$`.
    static func isValidName(_ name: String) -> Bool {
        name.count > 1 && name.first.map { $0.isASCII && ($0.isLowercase || $0.isNumber) } == true
            && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || "_.-".contains($0) }
    }
}
