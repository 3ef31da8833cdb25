import KubeModels

/// The Longhorn CustomResourceDefinitions the simulated manager installs: names, scope,
/// printer columns and the status subresource as Longhorn ships them. Field schemas are left
/// open; the project's tests check what it sends against the real CRD schemas instead.
enum LonghornCRDs {
    static let group = "longhorn.io"
    static let version = "v1beta2"

    struct Definition {
        var plural: String
        var kind: String
        var shortNames: [String]
        var columns: [(String, String, String)]  // name, type, jsonPath
        var status = true
    }

    static let definitions: [Definition] = [
        Definition(
            plural: "volumes", kind: "Volume", shortNames: ["lhv"],
            columns: [
                ("Data Engine", "string", ".spec.dataEngine"), ("State", "string", ".status.state"), ("Robustness", "string", ".status.robustness"),
                ("Size", "string", ".spec.size"), ("Node", "string", ".status.currentNodeID"), ("Age", "date", ".metadata.creationTimestamp"),
            ]),
        Definition(
            plural: "snapshots", kind: "Snapshot", shortNames: ["lhsnap"],
            columns: [
                ("Volume", "string", ".spec.volume"), ("CreationTime", "string", ".status.creationTime"), ("ReadyToUse", "boolean", ".status.readyToUse"),
                ("RestoreSize", "string", ".status.restoreSize"), ("Size", "string", ".status.size"), ("Age", "date", ".metadata.creationTimestamp"),
            ]),
        Definition(
            plural: "backups", kind: "Backup", shortNames: ["lhb"],
            columns: [
                ("SnapshotName", "string", ".status.snapshotName"), ("SnapshotSize", "string", ".status.size"),
                ("SnapshotCreatedAt", "string", ".status.snapshotCreatedAt"), ("BackupTarget", "string", ".status.backupTargetName"),
                ("State", "string", ".status.state"), ("LastSyncedAt", "string", ".status.lastSyncedAt"),
            ]),
        Definition(
            plural: "backupvolumes", kind: "BackupVolume", shortNames: ["lhbv"],
            columns: [
                ("BackupTarget", "string", ".spec.backupTargetName"), ("CreatedAt", "string", ".status.createdAt"),
                ("LastBackupName", "string", ".status.lastBackupName"), ("LastBackupAt", "string", ".status.lastBackupAt"),
                ("LastSyncedAt", "string", ".status.lastSyncedAt"),
            ]),
        Definition(
            plural: "backuptargets", kind: "BackupTarget", shortNames: ["lhbt"],
            columns: [
                ("URL", "string", ".spec.backupTargetURL"), ("Credential", "string", ".spec.credentialSecret"),
                ("PollInterval", "string", ".spec.pollInterval"),
                ("Available", "boolean", ".status.available"), ("LastSyncedAt", "string", ".status.lastSyncedAt"),
            ]),
        Definition(
            plural: "settings", kind: "Setting", shortNames: ["lhs"], columns: [("Value", "string", ".value"), ("Age", "date", ".metadata.creationTimestamp")]),
        Definition(
            plural: "recurringjobs", kind: "RecurringJob", shortNames: ["lhrj"],
            columns: [
                ("Groups", "string", ".spec.groups"), ("Task", "string", ".spec.task"), ("Cron", "string", ".spec.cron"), ("Retain", "integer", ".spec.retain"),
            ]),
    ]

    static func crd(_ definition: Definition) -> JSONValue {
        var version: JSONValue = [
            "name": .string(version), "served": true, "storage": true,
            "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
            "additionalPrinterColumns": .array(definition.columns.map { ["name": .string($0.0), "type": .string($0.1), "jsonPath": .string($0.2)] }),
        ]
        if definition.status { version["subresources"] = ["status": [:]] }
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(definition.plural).\(group)"), "labels": ["app.kubernetes.io/name": "longhorn"]],
            "spec": [
                "group": .string(group), "scope": "Namespaced",
                "names": [
                    "plural": .string(definition.plural), "singular": .string(definition.kind.lowercased()), "kind": .string(definition.kind),
                    "listKind": .string("\(definition.kind)List"), "shortNames": .array(definition.shortNames.map { .string($0) }),
                ],
                "versions": [version],
            ],
        ]
    }
}
