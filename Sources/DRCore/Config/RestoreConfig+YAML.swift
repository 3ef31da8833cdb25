import Foundation

extension RestoreConfig {
    /// The config as the restore Job reads it (its ConfigMap's `restore.yaml`): every field
    /// written out, so what a generated ConfigMap asks for never depends on a default. Names
    /// and enum values are validated Kubernetes names, so they need no quoting; the timestamp of
    /// an `asOf` policy is quoted.
    public func yamlText() -> String {
        var lines = [
            "apiVersion: longhorn-dr/v1",
            "kind: RestoreConfig",
            "longhornNamespace: \(longhornNamespace)",
            "backupTarget: \(backupTarget)",
            "syncTimeout: \(DurationText.format(syncTimeout))",
            "restoreTimeout: \(DurationText.format(restoreTimeout))",
            "concurrency: \(concurrency)",
            "skipFlag: {namespace: \(skipFlag.namespace), configMap: \(skipFlag.configMap), key: \(skipFlag.key)}",
            "statusConfigMap: \(statusConfigMap)",
            "volumes:",
        ]
        for volume in volumes {
            let restore: String =
                switch volume.restore {
                case .latest: "latest"
                case .backup(let name): "{backup: \(name)}"
                case .asOf(let date): "{asOf: \"\(Self.timestamp(date))\"}"
                }
            lines += [
                "  - name: \(volume.name)",
                "    pvc: {namespace: \(volume.pvcNamespace), name: \(volume.pvcName)}",
                "    size: \(volume.size)",
                "    replicas: \(volume.replicas)",
                "    storageClass: \(volume.storageClass)",
                "    fsType: \(volume.fsType.rawValue)",
                "    accessMode: \(volume.accessMode.rawValue)",
                "    restore: \(restore)",
                "    onMissingBackup: \(volume.onMissingBackup.rawValue)",
            ]
            if let maxAge = volume.maxAge { lines.append("    maxAge: \(DurationText.format(maxAge))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
