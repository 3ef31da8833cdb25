import Foundation
import KubeClient
import KubeModels

/// What `ensurePersistentVolume` found and did.
public enum PersistentVolumeOutcome: Sendable, Hashable {
    case created
    /// Already there, for this volume and reserved for (or bound to) the declared claim.
    case unchanged
    /// Was there without a claimRef; now reserved for the declared claim.
    case reserved
    /// Was reserved for the declared claim by a uid of a claim that no longer exists (carried
    /// over from an earlier cluster or deleted); the uid was dropped so the new claim can bind.
    case clearedStaleClaim(uid: String)
}

extension LonghornClient {
    /// Makes sure the PV of a Longhorn volume exists and is pre-bound to the declared claim, so a
    /// PVC with `spec.volumeName` binds instead of staying Pending.
    /// - Throws: `.conflict` when a PV of that name points at another volume or driver, or is
    ///   reserved for another claim.
    public func ensurePersistentVolume(_ request: PersistentVolumeRequest) async throws(LonghornError) -> PersistentVolumeOutcome {
        let subject = "persistentvolumes \(request.volumeName)"
        if let existing = try await readPersistentVolume(request.volumeName, subject: subject) {
            return try await ensureExisting(request, existing, subject: subject)
        }
        do {
            try await kube.create(.persistentVolumes, object: request.manifest)
            return .created
        } catch {
            guard error.code == .alreadyExists else { throw LonghornError.kube(error, subject: subject) }
        }
        // Someone made it meanwhile: judge theirs.
        guard let raced = try await readPersistentVolume(request.volumeName, subject: subject) else {
            throw LonghornError(.conflict, subject: subject, detail: "was created and deleted by someone else while this tool created it")
        }
        return try await ensureExisting(request, raced, subject: subject)
    }

    private func readPersistentVolume(_ name: String, subject: String) async throws(LonghornError) -> JSONValue? {
        do {
            return try await kube.getIfPresent(.persistentVolumes, name: name)
        } catch {
            throw LonghornError.kube(error, subject: subject)
        }
    }

    private func ensureExisting(_ request: PersistentVolumeRequest, _ pv: JSONValue, subject: String) async throws(LonghornError) -> PersistentVolumeOutcome {
        let driver = pv[path: ["spec", "csi", "driver"]]?.stringValue ?? ""
        let handle = pv[path: ["spec", "csi", "volumeHandle"]]?.stringValue ?? ""
        guard driver == PersistentVolumeRequest.csiDriver, handle == request.volumeName else {
            throw LonghornError(
                .conflict, subject: subject,
                detail: "exists but points at \(driver.isEmpty ? "no CSI driver" : driver) volume \"\(handle)\", not Longhorn volume \(request.volumeName)",
                hint: "rename the declared volume or remove that PV yourself if it is unused")
        }
        guard let claimRef = pv[path: ["spec", "claimRef"]], claimRef != .null else {
            try await patchPersistentVolume(request.volumeName, ["spec": ["claimRef": request.claimRef]], subject: subject)
            return .reserved
        }
        let claimNamespace = claimRef["namespace"]?.stringValue ?? ""
        let claimName = claimRef["name"]?.stringValue ?? ""
        guard claimNamespace == request.claim.namespace, claimName == request.claim.name else {
            let phase = pv[path: ["status", "phase"]]?.stringValue ?? "unknown phase"
            throw LonghornError(
                .conflict, subject: subject,
                detail: "is reserved for claim \(claimNamespace)/\(claimName) (\(phase)), not the declared \(request.claim)",
                hint: "point the declared PVC at this volume's claim, or clear the PV's claimRef yourself once that claim is known to be gone")
        }
        guard let uid = claimRef["uid"]?.stringValue, !uid.isEmpty else { return .unchanged }
        let claim: JSONValue?
        do {
            claim = try await kube.getIfPresent(.persistentVolumeClaims, namespace: claimNamespace, name: claimName)
        } catch {
            throw LonghornError.kube(error, subject: "persistentvolumeclaims \(claimNamespace)/\(claimName)")
        }
        if claim?[path: ["metadata", "uid"]]?.stringValue == uid { return .unchanged }
        // The uid names a claim that is gone: drop it (and its resourceVersion) so the new claim binds.
        try await patchPersistentVolume(request.volumeName, ["spec": ["claimRef": ["uid": .null, "resourceVersion": .null]]], subject: subject)
        return .clearedStaleClaim(uid: uid)
    }

    private func patchPersistentVolume(_ name: String, _ patch: JSONValue, subject: String) async throws(LonghornError) {
        do {
            try await kube.patch(.persistentVolumes, name: name, type: .merge, patch: patch)
        } catch {
            throw LonghornError.kube(error, subject: subject)
        }
    }
}
