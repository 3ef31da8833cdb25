import Foundation
import KubeModels

/// The CSI external-provisioner stand-in: for a Pending claim annotated with a registered
/// provisioner (the binder adds `volume.kubernetes.io/storage-provisioner`), asks that provisioner's
/// hook to create the backing volume, then creates PV `pvc-<claim uid>` pre-bound to the claim (claimRef
/// with uid), which the binder binds on its next pass. It never writes the claim's status: that path
/// does not exist in a real cluster.
struct DynamicProvisioner: Controller {
    let store: ClusterStore
    let provisioners: VolumeProvisioners
    let interval: Duration

    func run() async {
        await ControllerLoop(store: store, interval: interval).run {
            await sync()
        }
    }

    func sync() async {
        guard let claimType = await store.type(group: "", resource: "persistentvolumeclaims"),
            let volumeType = await store.type(group: "", resource: "persistentvolumes"),
            let classType = await store.type(group: "storage.k8s.io", resource: "storageclasses")
        else { return }
        for claim in (try? await store.list(claimType, namespace: nil).items) ?? [] {
            guard claim[path: ["status", "phase"]]?.stringValue == "Pending",
                claim[path: ["metadata", "deletionTimestamp"]] == nil,
                (claim[path: ["spec", "volumeName"]]?.stringValue ?? "").isEmpty,
                let driver = claim[path: ["metadata", "annotations", PersistentVolumeBinder.storageProvisioner]]?.stringValue,
                let hook = await provisioners.hook(for: driver),
                let uid = claim[path: ["metadata", "uid"]]?.stringValue,
                let className = claim[path: ["spec", "storageClassName"]]?.stringValue,
                let storageClass = await store.find(classType, namespace: nil, name: className),
                storageClass["provisioner"]?.stringValue == driver
            else { continue }
            let volumeName = "pvc-\(uid)"
            if await store.find(volumeType, namespace: nil, name: volumeName) != nil { continue }
            let request = claim[path: ["spec", "resources", "requests", "storage"]]?.stringValue ?? "1Gi"
            do {
                try await hook.createVolume(handle: volumeName, capacityBytes: Int64(Quantity.bytes(request) ?? 0), claim: claim)
            } catch {
                _ = await store.run { store in
                    EventRecorder.record(
                        store, about: claim, reason: "ProvisioningFailed",
                        message: "failed to provision volume with StorageClass \"\(className)\": \(error)", component: driver)
                }
                continue
            }
            var volume: JSONValue = [
                "metadata": [
                    "name": .string(volumeName),
                    "annotations": [
                        PersistentVolumeBinder.provisionedBy: .string(driver), "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                        "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
                    ],
                    "finalizers": [.string(PersistentVolumeBinder.provisionerFinalizer), "kubernetes.io/pv-protection"],
                ],
                "spec": [
                    "capacity": ["storage": .string(request)],
                    "accessModes": claim[path: ["spec", "accessModes"]] ?? ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": storageClass["reclaimPolicy"] ?? "Delete",
                    "storageClassName": .string(className),
                    "volumeMode": claim[path: ["spec", "volumeMode"]] ?? "Filesystem",
                    "claimRef": [
                        "kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": claim[path: ["metadata", "namespace"]] ?? "",
                        "name": claim[path: ["metadata", "name"]] ?? "", "uid": .string(uid),
                        "resourceVersion": claim[path: ["metadata", "resourceVersion"]] ?? "",
                    ],
                    "csi": [
                        "driver": .string(driver), "volumeHandle": .string(volumeName), "fsType": "ext4",
                        "volumeAttributes": .object((storageClass["parameters"]?.objectValue ?? [:])),
                    ],
                ],
            ]
            if let mountOptions = storageClass["mountOptions"] { volume[path: ["spec", "mountOptions"]] = mountOptions }
            _ = try? await store.create(volumeType, namespace: nil, object: volume)
            _ = await store.run { store in
                EventRecorder.record(
                    store, about: claim, type: "Normal", reason: "ProvisioningSucceeded",
                    message: "Successfully provisioned volume \(volumeName)", component: driver)
            }
        }
    }
}

extension ClusterStore {
    /// Runs `body` on the store's executor, for a few synchronous steps in one go.
    func run<T: Sendable>(_ body: @Sendable (isolated ClusterStore) -> T) -> T {
        body(self)
    }
}
