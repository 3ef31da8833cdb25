import Foundation
import KubeModels

/// The PV controller's binding half (`pv_controller.go`, simulator-fidelity.md section 5): binds
/// claims to volumes (pre-bound pairs, smallest fitting volume, equal storage classes, access modes,
/// capacity, volume mode, label selector), keeps phases (claims Pending/Bound/Lost, volumes
/// Available/Bound/Released/Failed), writes the bookkeeping annotations and events, and reclaims
/// released volumes (Retain keeps them, Delete asks the provisioner's hook and deletes the PV).
struct PersistentVolumeBinder: Controller {
    static let bindCompleted = "pv.kubernetes.io/bind-completed"
    static let boundByController = "pv.kubernetes.io/bound-by-controller"
    static let provisionedBy = "pv.kubernetes.io/provisioned-by"
    static let storageProvisioner = "volume.kubernetes.io/storage-provisioner"
    static let provisionerFinalizer = "external-provisioner.volume.kubernetes.io/finalizer"
    static let component = "persistentvolume-controller"

    let store: ClusterStore
    let provisioners: VolumeProvisioners
    let interval: Duration

    func run() async {
        await ControllerLoop(store: store, interval: interval).run {
            await sync()
        }
    }

    func sync() async {
        await syncClaims(store: store)
        await syncVolumes()
    }

    // MARK: - Claims

    private func syncClaims(store: isolated ClusterStore) async {
        guard let claimType = store.type(group: "", resource: "persistentvolumeclaims"),
            let volumeType = store.type(group: "", resource: "persistentvolumes")
        else { return }
        for claim in (try? store.list(claimType, namespace: nil).items) ?? [] {
            let volumes = (try? store.list(volumeType, namespace: nil).items) ?? []
            Self.syncClaim(claim, volumes: volumes, store: store, claimType: claimType, volumeType: volumeType)
        }
    }

    static func syncClaim(_ claim: JSONValue, volumes: [JSONValue], store: isolated ClusterStore, claimType: ResourceType, volumeType: ResourceType) {
        guard let name = claim[path: ["metadata", "name"]]?.stringValue, let namespace = claim[path: ["metadata", "namespace"]]?.stringValue,
            let uid = claim[path: ["metadata", "uid"]]?.stringValue
        else { return }
        let phase = claim[path: ["status", "phase"]]?.stringValue
        if phase == "Lost" { return }
        let volumeName = claim[path: ["spec", "volumeName"]]?.stringValue ?? ""
        let volume = volumes.first { $0[path: ["metadata", "name"]]?.stringValue == volumeName }
        if claim[path: ["metadata", "annotations", bindCompleted]] != nil {
            guard !volumeName.isEmpty, let volume else {
                setClaimPhase(store, claimType, namespace, name, "Lost")
                EventRecorder.record(
                    store, about: claim, reason: "ClaimLost", message: "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                    component: component)
                return
            }
            let refUID = volume[path: ["spec", "claimRef", "uid"]]?.stringValue
            if volume[path: ["spec", "claimRef"]] == nil {
                bind(store, claim: claim, volume: volume, claimType: claimType, volumeType: volumeType)
            } else if refUID != uid {
                setClaimPhase(store, claimType, namespace, name, "Lost")
                EventRecorder.record(
                    store, about: claim, reason: "ClaimMisbound", message: "Two claims are bound to the same volume, this one is bound incorrectly",
                    component: component)
            } else if phase != "Bound" {
                bind(store, claim: claim, volume: volume, claimType: claimType, volumeType: volumeType)
            }
            return
        }
        if claim[path: ["metadata", "deletionTimestamp"]] != nil { return }
        if volumeName.isEmpty {
            if let match = bestMatch(for: claim, among: volumes) {
                bind(store, claim: claim, volume: match, claimType: claimType, volumeType: volumeType)
                return
            }
            setClaimPhase(store, claimType, namespace, name, "Pending")
            let className = claim[path: ["spec", "storageClassName"]]?.stringValue ?? ""
            if className.isEmpty {
                EventRecorder.record(
                    store, about: claim, type: "Normal", reason: "FailedBinding",
                    message: "no persistent volumes available for this claim and no storage class is set", component: component)
            } else if let classType = store.type(group: "storage.k8s.io", resource: "storageclasses"),
                let storageClass = store.find(classType, namespace: nil, name: className),
                let provisioner = storageClass["provisioner"]?.stringValue,
                claim[path: ["metadata", "annotations", storageProvisioner]]?.stringValue != provisioner
            {
                // The external provisioner watches for claims annotated with its name.
                _ = try? store.patch(claimType, namespace: namespace, name: name) { old throws(APIError) in
                    var updated = old
                    updated[path: ["metadata", "annotations", storageProvisioner]] = .string(provisioner)
                    updated[path: ["metadata", "annotations", "volume.beta.kubernetes.io/storage-provisioner"]] = .string(provisioner)
                    return updated
                }
                EventRecorder.record(
                    store, about: claim, type: "Normal", reason: "ExternalProvisioning",
                    message:
                        "Waiting for a volume to be created either by the external provisioner '\(provisioner)' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
                    component: component)
            }
            return
        }
        // Pre-bound claim: volumeName set by the user.
        guard let volume else {
            setClaimPhase(store, claimType, namespace, name, "Pending")
            return
        }
        let ref = volume[path: ["spec", "claimRef"]]
        if ref == nil {
            if let problem = mismatch(claim, volume, checkSelector: false) {
                setClaimPhase(store, claimType, namespace, name, "Pending")
                EventRecorder.record(
                    store, about: claim, reason: "VolumeMismatch", message: "Cannot bind to requested volume \"\(volumeName)\": \(problem)",
                    component: component)
                return
            }
            bind(store, claim: claim, volume: volume, claimType: claimType, volumeType: volumeType)
        } else if isReserved(volume, for: claim) {
            bind(store, claim: claim, volume: volume, claimType: claimType, volumeType: volumeType)
        } else {
            setClaimPhase(store, claimType, namespace, name, "Pending")
            EventRecorder.record(
                store, about: claim, reason: "FailedBinding", message: "volume \"\(volumeName)\" already bound to a different claim.", component: component)
        }
    }

    /// A volume whose claimRef names this claim (and its uid, or no uid yet).
    static func isReserved(_ volume: JSONValue, for claim: JSONValue) -> Bool {
        guard let ref = volume[path: ["spec", "claimRef"]] else { return false }
        let refUID = ref["uid"]?.stringValue ?? ""
        return ref["name"] == claim[path: ["metadata", "name"]] && ref["namespace"] == claim[path: ["metadata", "namespace"]]
            && (refUID.isEmpty || refUID == claim[path: ["metadata", "uid"]]?.stringValue)
    }

    /// Why `volume` cannot satisfy `claim` (`checkVolumeSatisfyClaim`), or nil when it can.
    static func mismatch(_ claim: JSONValue, _ volume: JSONValue, checkSelector: Bool) -> String? {
        if volume[path: ["metadata", "deletionTimestamp"]] != nil { return "the volume is being deleted" }
        let requested = Quantity.bytes(claim[path: ["spec", "resources", "requests", "storage"]]?.stringValue ?? "0") ?? 0
        let capacity = Quantity.bytes(volume[path: ["spec", "capacity", "storage"]]?.stringValue ?? "0") ?? 0
        if capacity < requested { return "requested PV is too small" }
        let claimClass = claim[path: ["spec", "storageClassName"]]?.stringValue ?? ""
        let volumeClass = volume[path: ["spec", "storageClassName"]]?.stringValue ?? ""
        if claimClass != volumeClass { return "storageClassName does not match" }
        if (claim[path: ["spec", "volumeMode"]]?.stringValue ?? "Filesystem") != (volume[path: ["spec", "volumeMode"]]?.stringValue ?? "Filesystem") {
            return "incompatible volumeMode"
        }
        let offered = Set((volume[path: ["spec", "accessModes"]]?.arrayValue ?? []).compactMap(\.stringValue))
        let wanted = Set((claim[path: ["spec", "accessModes"]]?.arrayValue ?? []).compactMap(\.stringValue))
        if !wanted.isSubset(of: offered) { return "incompatible accessMode" }
        if checkSelector, let selector = claim[path: ["spec", "selector"]], !selector.isNull {
            guard let parsed = try? LabelSelector(structured: selector), parsed.matches(object: volume) else { return "label selector does not match" }
        }
        return nil
    }

    /// A volume reserved for this claim wins; otherwise the smallest free volume that fits.
    static func bestMatch(for claim: JSONValue, among volumes: [JSONValue]) -> JSONValue? {
        let candidates = volumes.filter { volume in
            let phase = volume[path: ["status", "phase"]]?.stringValue
            guard phase != "Released", phase != "Failed" else { return false }
            let free = volume[path: ["spec", "claimRef"]] == nil
            guard free || isReserved(volume, for: claim) else { return false }
            return mismatch(claim, volume, checkSelector: true) == nil
        }
        if let reserved = candidates.first(where: { isReserved($0, for: claim) }) { return reserved }
        return candidates.min { a, b in
            (Quantity.bytes(a[path: ["spec", "capacity", "storage"]]?.stringValue ?? "0") ?? 0)
                < (Quantity.bytes(b[path: ["spec", "capacity", "storage"]]?.stringValue ?? "0") ?? 0)
        }
    }

    /// Binds both sides: the volume's claimRef (with uid), then the claim's volumeName, annotations and status.
    static func bind(_ store: isolated ClusterStore, claim: JSONValue, volume: JSONValue, claimType: ResourceType, volumeType: ResourceType) {
        guard let claimName = claim[path: ["metadata", "name"]]?.stringValue, let namespace = claim[path: ["metadata", "namespace"]]?.stringValue,
            let volumeName = volume[path: ["metadata", "name"]]?.stringValue
        else { return }
        let setByController = (claim[path: ["spec", "volumeName"]]?.stringValue ?? "").isEmpty
        do {
            try store.patch(volumeType, namespace: nil, name: volumeName) { old throws(APIError) in
                var updated = old
                if old[path: ["spec", "claimRef"]] == nil {
                    updated[path: ["metadata", "annotations", boundByController]] = "yes"
                }
                updated[path: ["spec", "claimRef"]] = [
                    "kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": .string(namespace), "name": .string(claimName),
                    "uid": claim[path: ["metadata", "uid"]] ?? "", "resourceVersion": claim[path: ["metadata", "resourceVersion"]] ?? "",
                ]
                return updated
            }
            try store.patch(volumeType, namespace: nil, name: volumeName, target: .status) { old throws(APIError) in
                var updated = old
                updated[path: ["status", "phase"]] = "Bound"
                return updated
            }
            try store.patch(claimType, namespace: namespace, name: claimName) { old throws(APIError) in
                var updated = old
                updated[path: ["spec", "volumeName"]] = .string(volumeName)
                updated[path: ["metadata", "annotations", bindCompleted]] = "yes"
                if setByController { updated[path: ["metadata", "annotations", boundByController]] = "yes" }
                return updated
            }
            try store.patch(claimType, namespace: namespace, name: claimName, target: .status) { old throws(APIError) in
                var updated = old
                updated[path: ["status", "phase"]] = "Bound"
                updated[path: ["status", "capacity"]] = volume[path: ["spec", "capacity"]]
                updated[path: ["status", "accessModes"]] = volume[path: ["spec", "accessModes"]]
                return updated
            }
        } catch {
            // Level-triggered: the next pass retries from what is stored then.
        }
    }

    static func setClaimPhase(_ store: isolated ClusterStore, _ type: ResourceType, _ namespace: String, _ name: String, _ phase: String) {
        _ = try? store.patch(type, namespace: namespace, name: name, target: .status) { old throws(APIError) in
            var updated = old
            updated[path: ["status", "phase"]] = .string(phase)
            if phase == "Pending" {
                updated[path: ["status", "capacity"]] = nil
                updated[path: ["status", "accessModes"]] = nil
            }
            return updated
        }
    }

    // MARK: - Volumes

    private func syncVolumes() async {
        guard let claimType = await store.type(group: "", resource: "persistentvolumeclaims"),
            let volumeType = await store.type(group: "", resource: "persistentvolumes")
        else { return }
        for volume in (try? await store.list(volumeType, namespace: nil).items) ?? [] {
            guard let name = volume[path: ["metadata", "name"]]?.stringValue else { continue }
            let phase = volume[path: ["status", "phase"]]?.stringValue
            guard let ref = volume[path: ["spec", "claimRef"]], let refUID = ref["uid"]?.stringValue, !refUID.isEmpty else {
                if phase != "Available" { await setVolumePhase(volumeType, name, "Available") }
                continue
            }
            let claim = await store.find(claimType, namespace: ref["namespace"]?.stringValue, name: ref["name"]?.stringValue ?? "")
            if let claim, claim[path: ["metadata", "uid"]]?.stringValue == refUID {
                if phase != "Bound", claim[path: ["spec", "volumeName"]]?.stringValue == name { await setVolumePhase(volumeType, name, "Bound") }
                continue
            }
            // The claim is gone (or was recreated): released, then reclaimed by policy.
            if phase != "Released", phase != "Failed" { await setVolumePhase(volumeType, name, "Released") }
            guard volume[path: ["spec", "persistentVolumeReclaimPolicy"]]?.stringValue == "Delete", phase != "Failed" else { continue }
            await reclaimByDeleting(volume, name: name, type: volumeType)
        }
    }

    private func reclaimByDeleting(_ volume: JSONValue, name: String, type: ResourceType) async {
        let driver = volume[path: ["metadata", "annotations", Self.provisionedBy]]?.stringValue ?? volume[path: ["spec", "csi", "driver"]]?.stringValue
        guard let driver, let hook = await provisioners.hook(for: driver) else {
            await setVolumePhase(
                type, name, "Failed", message: "error getting deleter volume plugin for volume \"\(name)\": no deletable volume plugin matched")
            return
        }
        let handle = volume[path: ["spec", "csi", "volumeHandle"]]?.stringValue ?? name
        do {
            try await hook.deleteVolume(handle: handle)
        } catch {
            await setVolumePhase(type, name, "Failed", message: "error deleting volume \(handle) through \(driver): \(error)")
            return
        }
        _ = try? await store.patch(type, namespace: nil, name: name) { old throws(APIError) in
            var updated = old
            let kept = (old[path: ["metadata", "finalizers"]]?.arrayValue ?? []).filter { $0.stringValue != Self.provisionerFinalizer }
            updated[path: ["metadata", "finalizers"]] = kept.isEmpty ? nil : .array(kept)
            return updated
        }
        _ = try? await store.delete(type, namespace: nil, name: name)
    }

    private func setVolumePhase(_ type: ResourceType, _ name: String, _ phase: String, message: String? = nil) async {
        _ = try? await store.patch(type, namespace: nil, name: name, target: .status) { old throws(APIError) in
            var updated = old
            updated[path: ["status", "phase"]] = .string(phase)
            updated[path: ["status", "message"]] = message.map { .string($0) }
            return updated
        }
    }
}
