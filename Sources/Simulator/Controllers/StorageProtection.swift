import Foundation
import KubeModels

/// `kubernetes.io/pvc-protection` and `kubernetes.io/pv-protection`: admission puts the finalizers on
/// new claims and volumes; this controller removes them once a deleted claim is no longer used by a
/// pod that can still run, and once a deleted volume is no longer Bound.
struct StorageProtection: Controller {
    static let claimFinalizer = "kubernetes.io/pvc-protection"
    static let volumeFinalizer = "kubernetes.io/pv-protection"

    let store: ClusterStore
    let interval: Duration

    func run() async {
        await ControllerLoop(store: store, interval: interval).run {
            await store.run { store in Self.sync(store) }
        }
    }

    static func sync(_ store: isolated ClusterStore) {
        guard let claimType = store.type(group: "", resource: "persistentvolumeclaims"),
            let volumeType = store.type(group: "", resource: "persistentvolumes"),
            let podType = store.type(group: "", resource: "pods")
        else { return }
        for claim in (try? store.list(claimType, namespace: nil).items) ?? [] where claim[path: ["metadata", "deletionTimestamp"]] != nil {
            guard let name = claim[path: ["metadata", "name"]]?.stringValue, let namespace = claim[path: ["metadata", "namespace"]]?.stringValue,
                has(claim, claimFinalizer)
            else { continue }
            let pods = (try? store.list(podType, namespace: namespace).items) ?? []
            let inUse = pods.contains { pod in
                let phase = pod[path: ["status", "phase"]]?.stringValue
                guard phase != "Succeeded", phase != "Failed" else { return false }
                return (pod[path: ["spec", "volumes"]]?.arrayValue ?? []).contains { $0[path: ["persistentVolumeClaim", "claimName"]]?.stringValue == name }
            }
            if !inUse { drop(claimFinalizer, from: claimType, namespace: namespace, name: name, store: store) }
        }
        for volume in (try? store.list(volumeType, namespace: nil).items) ?? [] where volume[path: ["metadata", "deletionTimestamp"]] != nil {
            guard let name = volume[path: ["metadata", "name"]]?.stringValue, has(volume, volumeFinalizer),
                volume[path: ["status", "phase"]]?.stringValue != "Bound"
            else { continue }
            drop(volumeFinalizer, from: volumeType, namespace: nil, name: name, store: store)
        }
    }

    static func has(_ object: JSONValue, _ finalizer: String) -> Bool {
        (object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).contains { $0.stringValue == finalizer }
    }

    static func drop(_ finalizer: String, from type: ResourceType, namespace: String?, name: String, store: isolated ClusterStore) {
        _ = try? store.patch(type, namespace: namespace, name: name) { old throws(APIError) in
            var updated = old
            let kept = (old[path: ["metadata", "finalizers"]]?.arrayValue ?? []).filter { $0.stringValue != finalizer }
            updated[path: ["metadata", "finalizers"]] = kept.isEmpty ? nil : .array(kept)
            return updated
        }
    }

    /// The admission half: new claims and volumes get their protection finalizer.
    struct Admission: AdmissionPlugin {
        func admit(_ object: inout JSONValue, operation: AdmissionOperation, type: ResourceType, old: JSONValue?, store: isolated ClusterStore) throws(APIError)
        {
            guard operation == .create, type.group.isEmpty else { return }
            let finalizer: String
            switch type.resource {
            case "persistentvolumeclaims": finalizer = claimFinalizer
            case "persistentvolumes": finalizer = volumeFinalizer
            default: return
            }
            var finalizers = object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
            if !finalizers.contains(where: { $0.stringValue == finalizer }) { finalizers.append(.string(finalizer)) }
            object[path: ["metadata", "finalizers"]] = .array(finalizers)
        }
    }
}
