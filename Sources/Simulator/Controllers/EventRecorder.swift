import Foundation
import KubeModels

/// Records core/v1 Events about objects, as controllers do (`kubectl describe` and tests read them).
/// Level-triggered controllers see the same situation many times a second, so an event that already
/// exists for the same object, reason and message is not written again.
enum EventRecorder {
    static func record(
        _ store: isolated ClusterStore, about object: JSONValue, type: String = "Warning", reason: String, message: String,
        component: String
    ) {
        guard let events = store.type(group: "", resource: "events"),
            let name = object[path: ["metadata", "name"]]?.stringValue
        else { return }
        // Cluster-scoped objects get their events in "default", as the real recorder does.
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue ?? "default"
        let uid = object[path: ["metadata", "uid"]]?.stringValue ?? ""
        let key = "\(uid)|\(reason)|\(message)"
        var hash: UInt64 = 1_469_598_103_934_665_603
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        let eventName = "\(name).\(String(hash, radix: 16))"
        guard store.find(events, namespace: namespace, name: eventName) == nil else { return }
        let now = ClusterStore.timestamp(store.now())
        _ = try? store.create(
            events, namespace: namespace,
            object: [
                "metadata": ["name": .string(eventName), "namespace": .string(namespace)],
                "involvedObject": [
                    "kind": object["kind"] ?? "", "apiVersion": object["apiVersion"] ?? "", "name": .string(name),
                    "namespace": object[path: ["metadata", "namespace"]] ?? .null, "uid": .string(uid),
                    "resourceVersion": object[path: ["metadata", "resourceVersion"]] ?? "",
                ],
                "type": .string(type), "reason": .string(reason), "message": .string(message),
                "source": ["component": .string(component)], "reportingComponent": .string(component),
                "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
            ])
    }
}
