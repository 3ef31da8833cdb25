import KubeModels

/// The PersistentVolumeClaim a static PV is reserved for.
public struct ClaimReference: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(namespace)/\(name)" }
}

/// What the PV for a Longhorn volume must say so the declared PVC (with `spec.volumeName` set)
/// binds to it: no dynamic provisioning happens for such a claim (longhorn-facts.md section 5).
public struct PersistentVolumeRequest: Sendable, Hashable {
    /// The Longhorn volume name; also the PV name and the CSI `volumeHandle`.
    public var volumeName: String
    public var capacityBytes: Int64
    /// Longhorn's access mode (`rwo`, `rwx`, `rwop`), mapped to the Kubernetes one.
    public var accessMode: String
    public var storageClassName: String
    public var fsType: String
    public var claim: ClaimReference
    /// `Filesystem` (mounted, with `fsType`) or `Block` (a raw device; no filesystem is touched).
    public var volumeMode: String

    public init(
        volumeName: String, capacityBytes: Int64, accessMode: String = "rwo", storageClassName: String, fsType: String = "ext4", claim: ClaimReference,
        volumeMode: String = "Filesystem"
    ) {
        self.volumeName = volumeName
        self.capacityBytes = capacityBytes
        self.accessMode = accessMode
        self.storageClassName = storageClassName
        self.fsType = fsType
        self.claim = claim
        self.volumeMode = volumeMode
    }

    /// Longhorn's CSI driver name.
    public static let csiDriver = "driver.longhorn.io"

    public var kubernetesAccessModes: [String] {
        switch accessMode {
        case "rwx": return ["ReadWriteMany"]
        case "rwop": return ["ReadWriteOncePod"]
        default: return ["ReadWriteOnce"]
        }
    }

    /// The claimRef that pre-binds the PV to the declared claim: namespace and name, no uid
    /// (the claim may not exist yet, and a uid would go stale with the next rebuild).
    public var claimRef: JSONValue {
        ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": .string(claim.namespace), "name": .string(claim.name)]
    }

    /// The PV object, as Longhorn's own `pvCreate` builds it (`Retain`, CSI handle = volume name),
    /// plus the claimRef.
    public var manifest: JSONValue {
        var csi: JSONValue = ["driver": .string(Self.csiDriver), "volumeHandle": .string(volumeName)]
        if volumeMode != "Block" { csi["fsType"] = .string(fsType) }
        return [
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": ["name": .string(volumeName)],
            "spec": [
                "capacity": ["storage": .string(Self.quantity(bytes: capacityBytes))],
                "accessModes": .array(kubernetesAccessModes.map { .string($0) }),
                "persistentVolumeReclaimPolicy": "Retain",
                "volumeMode": .string(volumeMode),
                "storageClassName": .string(storageClassName),
                "csi": csi,
                "claimRef": claimRef,
            ],
        ]
    }

    /// A byte count as a binary-SI Kubernetes quantity (`1Gi`, `512Mi`, or plain bytes), the form
    /// `resource.NewQuantity(size, BinarySI)` prints.
    public static func quantity(bytes: Int64) -> String {
        let suffixes = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        var value = bytes
        var index = -1
        while value != 0, value % 1024 == 0, index + 1 < suffixes.count {
            value /= 1024
            index += 1
        }
        return index < 0 ? String(bytes) : "\(value)\(suffixes[index])"
    }
}
