import Foundation
import Yams

/// Reads a `RestoreConfig` out of a YAML mapping, filling documented defaults.
struct RestoreConfigParser {
    let reader: ConfigReader
    typealias Defaults = RestoreConfig.Defaults

    func parse(_ top: ConfigMapping) -> RestoreConfig? {
        top.rejectUnknownKeys([
            "apiVersion", "kind", "longhornNamespace", "backupTarget", "syncTimeout", "restoreTimeout", "concurrency", "skipFlag", "statusConfigMap", "volumes",
        ])
        let namespace =
            top.name("longhornNamespace", rule: { KubernetesName.labelProblem($0) }) ?? (top.has("longhornNamespace") ? nil : Defaults.longhornNamespace)
        let target = top.name("backupTarget", rule: KubernetesName.subdomainProblem) ?? (top.has("backupTarget") ? nil : Defaults.backupTarget)
        let syncTimeout = top.duration("syncTimeout") ?? (top.has("syncTimeout") ? nil : Defaults.syncTimeout)
        let restoreTimeout = top.duration("restoreTimeout") ?? (top.has("restoreTimeout") ? nil : Defaults.restoreTimeout)
        let concurrency = top.int("concurrency", range: 1...64) ?? (top.has("concurrency") ? nil : Defaults.concurrency)
        let skipFlag = parseSkipFlag(top.mapping("skipFlag"))
        let status = top.name("statusConfigMap", rule: KubernetesName.subdomainProblem) ?? (top.has("statusConfigMap") ? nil : Defaults.statusConfigMap)
        let volumes = parseVolumes(top)
        guard let namespace, let target, let syncTimeout, let restoreTimeout, let concurrency, let skipFlag, let status, let volumes else {
            return nil
        }
        return RestoreConfig(
            longhornNamespace: namespace, backupTarget: target, syncTimeout: syncTimeout, restoreTimeout: restoreTimeout,
            concurrency: concurrency, skipFlag: skipFlag, statusConfigMap: status, volumes: volumes)
    }

    private func parseSkipFlag(_ map: ConfigMapping?) -> RestoreConfig.SkipFlag? {
        guard let map else { return Defaults.skipFlag }
        map.rejectUnknownKeys(["namespace", "configMap", "key"])
        let namespace = map.name("namespace", rule: { KubernetesName.labelProblem($0) }) ?? (map.has("namespace") ? nil : Defaults.skipFlag.namespace)
        let configMap = map.name("configMap", rule: KubernetesName.subdomainProblem) ?? (map.has("configMap") ? nil : Defaults.skipFlag.configMap)
        let key = map.string("key") ?? (map.has("key") ? nil : Defaults.skipFlag.key)
        guard let namespace, let configMap, let key else { return nil }
        return RestoreConfig.SkipFlag(namespace: namespace, configMap: configMap, key: key)
    }

    private func parseVolumes(_ top: ConfigMapping) -> [RestoreConfig.Volume]? {
        guard let items = top.list("volumes") else {
            if !top.has("volumes") {
                top.reader.report(
                    "volumes", at: top.node, "is required but missing",
                    hint: "list each well-known volume to restore; an empty list `volumes: []` restores nothing")
            }
            return nil
        }
        var volumes: [RestoreConfig.Volume] = []
        var ok = true
        var seenNames: [String: String] = [:]
        var seenClaims: [String: String] = [:]
        for item in items {
            guard let map = ConfigMapping(item.node, at: item.path, reader: reader), let volume = parseVolume(map) else {
                ok = false
                continue
            }
            if let first = seenNames[volume.name] {
                reader.report(
                    map.childPath("name"), at: map.value("name"), "volume name \"\(volume.name)\" is declared twice (first at \(first))",
                    hint: "each Longhorn volume can back one PVC only")
                ok = false
            } else {
                seenNames[volume.name] = item.path
            }
            let claim = "\(volume.pvcNamespace)/\(volume.pvcName)"
            if let first = seenClaims[claim] {
                reader.report(
                    map.childPath("pvc"), at: map.value("pvc"), "PVC \(claim) is declared twice (first at \(first))",
                    hint: "a PVC binds to exactly one volume")
                ok = false
            } else {
                seenClaims[claim] = item.path
            }
            volumes.append(volume)
        }
        return ok ? volumes : nil
    }

    private func parseVolume(_ map: ConfigMapping) -> RestoreConfig.Volume? {
        map.rejectUnknownKeys(["name", "pvc", "size", "replicas", "storageClass", "fsType", "accessMode", "restore", "onMissingBackup", "maxAge"])
        let name = map.name("name", required: true, rule: { KubernetesName.labelProblem($0, maxLength: KubernetesName.longhornVolumeMaxLength) })
        var pvcNamespace: String?
        var pvcName: String?
        if let pvc = map.mapping("pvc", required: true) {
            pvc.rejectUnknownKeys(["namespace", "name"])
            pvcNamespace = pvc.name("namespace", required: true, rule: { KubernetesName.labelProblem($0) })
            pvcName = pvc.name("name", required: true, rule: KubernetesName.subdomainProblem)
        }
        let size: ByteQuantity? =
            map.has("size")
            ? map.quantity("size")
            : {
                reader.report(
                    map.childPath("size"), at: map.node, "is required but missing",
                    hint: "the size a fresh volume gets; a restored one takes the backup's size")
                return nil
            }()
        let replicas = map.int("replicas", range: 1...20) ?? (map.has("replicas") ? nil : Defaults.replicas)
        let storageClass = map.name("storageClass", rule: KubernetesName.subdomainProblem) ?? (map.has("storageClass") ? nil : Defaults.storageClass)
        let fsType = map.choice("fsType", of: RestoreConfig.FilesystemType.self) ?? (map.has("fsType") ? nil : Defaults.fsType)
        let accessMode = map.choice("accessMode", of: RestoreConfig.AccessMode.self) ?? (map.has("accessMode") ? nil : Defaults.accessMode)
        let restore = parseRestorePolicy(map)
        let onMissing =
            map.choice("onMissingBackup", of: RestoreConfig.MissingBackupAction.self) ?? (map.has("onMissingBackup") ? nil : Defaults.onMissingBackup)
        // The RPO `assure` holds the volume to (a positive duration, e.g. 26h for a daily backup).
        let maxAge = map.duration("maxAge")
        guard let name, let pvcNamespace, let pvcName, let size, let replicas, let storageClass, let fsType, let accessMode,
            let restore, let onMissing, map.has("maxAge") == (maxAge != nil)
        else { return nil }
        return RestoreConfig.Volume(
            name: name, pvcNamespace: pvcNamespace, pvcName: pvcName, size: size, replicas: replicas, storageClass: storageClass,
            fsType: fsType, accessMode: accessMode, restore: restore, onMissingBackup: onMissing, maxAge: maxAge)
    }

    /// `restore: latest`, `restore: {backup: NAME}` or `restore: {asOf: 2026-11-20T00:00:00Z}`.
    private func parseRestorePolicy(_ map: ConfigMapping) -> RestoreConfig.RestorePolicy? {
        guard let node = map.value("restore") else { return .latest }
        let path = map.childPath("restore")
        if case .scalar(let scalar) = node {
            guard scalar.string == "latest" else {
                reader.report(path, at: node, "expected latest, {backup: NAME} or {asOf: TIME}, found \(ConfigReader.describe(node))")
                return nil
            }
            return .latest
        }
        guard let policy = ConfigMapping(node, at: path, reader: reader) else { return nil }
        policy.rejectUnknownKeys(["backup", "asOf"])
        switch (policy.has("backup"), policy.has("asOf")) {
        case (true, false):
            return policy.name("backup", rule: KubernetesName.subdomainProblem).map { .backup($0) }
        case (false, true):
            guard let text = policy.string("asOf") else { return nil }
            guard let date = Self.parseTimestamp(text) else {
                reader.report(
                    policy.childPath("asOf"), at: policy.value("asOf"),
                    "expected an RFC 3339 time like 2026-11-20T00:00:00Z, found \"\(text)\"")
                return nil
            }
            return .asOf(date)
        default:
            reader.report(path, at: node, "expected exactly one of backup or asOf")
            return nil
        }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
