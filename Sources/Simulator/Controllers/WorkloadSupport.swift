import Foundation
import KubeModels

/// Helpers the workload controllers share: ownership, pod creation from templates, readiness.
enum Workload {
    /// An ownerReference marking `owner` as the managing controller (GC deletes the dependent with it).
    static func controllerReference(to owner: JSONValue) -> JSONValue {
        [
            "apiVersion": owner["apiVersion"] ?? "", "kind": owner["kind"] ?? "", "name": owner[path: ["metadata", "name"]] ?? "",
            "uid": owner[path: ["metadata", "uid"]] ?? "", "controller": true, "blockOwnerDeletion": true,
        ]
    }

    static func isOwned(_ object: JSONValue, by owner: JSONValue) -> Bool {
        guard let uid = owner[path: ["metadata", "uid"]]?.stringValue else { return false }
        return (object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid && $0["controller"] == true }
    }

    /// A pod from a template, owned by `owner`, with extra labels.
    static func pod(from template: JSONValue, owner: JSONValue, namePrefix: String, labels extra: [String: String]) -> JSONValue {
        var pod: JSONValue = ["metadata": template["metadata"] ?? [:], "spec": template["spec"] ?? [:]]
        pod[path: ["metadata", "name"]] = nil
        pod[path: ["metadata", "generateName"]] = .string(namePrefix)
        pod[path: ["metadata", "namespace"]] = owner[path: ["metadata", "namespace"]]
        pod[path: ["metadata", "creationTimestamp"]] = nil
        for (key, value) in extra { pod[path: ["metadata", "labels", key]] = .string(value) }
        pod[path: ["metadata", "ownerReferences"]] = [controllerReference(to: owner)]
        return pod
    }

    static func isTerminal(_ pod: JSONValue) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    static func isReady(_ pod: JSONValue) -> Bool {
        (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
    }

    /// Sets a condition, keeping lastTransitionTime when its status is unchanged.
    static func setCondition(_ status: inout JSONValue, type: String, status value: String, reason: String, message: String, now: String) {
        var conditions = status["conditions"]?.arrayValue ?? []
        let index = conditions.firstIndex { $0["type"]?.stringValue == type }
        var condition: JSONValue = [
            "type": .string(type), "status": .string(value), "reason": .string(reason), "message": .string(message),
            "lastUpdateTime": .string(now), "lastTransitionTime": .string(now),
        ]
        if let index {
            if conditions[index]["status"]?.stringValue == value, let since = conditions[index]["lastTransitionTime"] {
                condition["lastTransitionTime"] = since
            }
            if conditions[index]["status"] == condition["status"], conditions[index]["reason"] == condition["reason"],
                conditions[index]["message"] == condition["message"]
            {
                condition["lastUpdateTime"] = conditions[index]["lastUpdateTime"] ?? .string(now)
            }
            conditions[index] = condition
        } else {
            conditions.append(condition)
        }
        status["conditions"] = .array(conditions)
    }

    /// A short stable hash of a value (FNV-1a), spelled with the alphabet Kubernetes uses for names.
    static func hash(_ value: JSONValue) -> String {
        var hash: UInt64 = 1_469_598_103_934_665_603
        for byte in value.encoded() { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var text = ""
        for _ in 0..<10 {
            text.append(alphabet[Int(hash % UInt64(alphabet.count))])
            hash /= UInt64(alphabet.count)
        }
        return text
    }

    static func writeStatus(_ store: isolated ClusterStore, _ type: ResourceType, _ object: JSONValue, _ change: (inout JSONValue) -> Void) {
        guard let name = object[path: ["metadata", "name"]]?.stringValue else { return }
        let uid = object[path: ["metadata", "uid"]]
        _ = try? store.patch(type, namespace: object[path: ["metadata", "namespace"]]?.stringValue, name: name, target: .status) { old throws(APIError) in
            guard old[path: ["metadata", "uid"]] == uid else { throw .conflict(type, name) }
            var updated = old
            var status = old["status"] ?? [:]
            change(&status)
            updated["status"] = status
            return updated
        }
    }
}
