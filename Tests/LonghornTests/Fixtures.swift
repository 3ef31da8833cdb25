import Foundation
import KubeModels

@testable import Longhorn

/// Objects as Longhorn would show them, built in one line each.
enum Fixtures {
    static let namespace = "longhorn-system"
    static let url = "s3://dr-bucket@us-east-1/longhorn?backup=backup-0123456789abcdef&volume=dr-exercise-data"

    static func version(_ text: String) -> LonghornVersion {
        (try? LonghornVersion(parsing: text)) ?? LonghornVersion(major: 0, minor: 0, patch: 0)
    }

    static func time(_ text: String) -> Date {
        LonghornTime.parse(text) ?? .distantPast
    }

    static func backup(
        _ name: String = "backup-0123456789abcdef", volume: String = "dr-exercise-data", state: String = "Completed",
        snapshotAt: String? = "2026-11-20T10:00:00Z", target: String? = "default", size: String = "1073741824", labelled: Bool = true
    ) -> Backup {
        var labels: [String: String] = [:]
        if labelled {
            labels[LonghornLabels.backupVolume] = volume
            if let target { labels[LonghornLabels.backupTarget] = target }
        }
        let url = "s3://dr-bucket@us-east-1/longhorn?backup=\(name)&volume=\(volume)"
        return Backup(
            metadata: ResourceMetadata(name: name, namespace: namespace, labels: labels.isEmpty ? nil : labels),
            status: Backup.Status(
                state: state, url: state == "Completed" ? url : nil, snapshotCreatedAt: snapshotAt,
                volumeSize: state == "Completed" ? size : nil, volumeName: state.isEmpty ? nil : volume, backupTargetName: target))
    }

    static func backupVolume(
        _ name: String, volume: String? = nil, target: String? = "default", labelled: Bool = true, lastBackup: String? = nil,
        syncedAt: String? = "2026-11-27T03:00:10Z"
    ) -> BackupVolume {
        var labels: [String: String]?
        if labelled, let volume {
            labels = [LonghornLabels.backupVolume: volume]
            if let target { labels?[LonghornLabels.backupTarget] = target }
        }
        return BackupVolume(
            metadata: ResourceMetadata(name: name, namespace: namespace, labels: labels),
            spec: BackupVolume.Spec(volumeName: volume, backupTargetName: volume == nil ? nil : target),
            status: BackupVolume.Status(lastBackupName: lastBackup, lastSyncedAt: syncedAt))
    }

    static func target(available: Bool = true, syncedAt: String? = "2026-11-27T03:00:05Z", message: String? = nil) -> BackupTarget {
        BackupTarget(
            metadata: ResourceMetadata(name: "default", namespace: namespace),
            spec: BackupTarget.Spec(backupTargetURL: "s3://dr-bucket@us-east-1/longhorn", credentialSecret: "aws-creds", pollInterval: "5m0s"),
            status: BackupTarget.Status(
                available: available, lastSyncedAt: syncedAt,
                conditions: message.map { [LonghornCondition(type: "Unavailable", status: "True", reason: "Unavailable", message: $0)] }))
    }

    static func volume(
        state: String?, robustness: String? = "unknown", initiated: Bool? = nil, required: Bool? = nil, restoreCondition: LonghornCondition? = nil
    ) -> Volume {
        let status = state.map {
            Volume.Status(
                state: $0, robustness: robustness, restoreRequired: required, restoreInitiated: initiated,
                conditions: restoreCondition.map { [$0] })
        }
        return Volume(
            metadata: ResourceMetadata(name: "dr-exercise-data", namespace: namespace),
            spec: Volume.Spec(size: 1_073_741_824, frontend: "blockdev", fromBackup: url), status: status)
    }
}
