import Foundation
import KubeModels

/// Server-side apply (`application/apply-patch+yaml`): creates a missing object, otherwise merges
/// the manager's intent with ownership tracking in `managedFields`, refusing conflicts unless forced.
enum ApplyHandler {
    static func apply(
        _ request: APIRequest, body: JSONValue, type: ResourceType, namespace: String?, name: String,
        target: ClusterStore.UpdateTarget, dryRun: Bool, store: ClusterStore, handler: APIHandler
    ) async throws(APIError) -> APIResponse {
        guard let manager = request.parameter("fieldManager"), !manager.isEmpty else {
            throw .badRequest("PATCH, PUT, and CREATE (or in the future, APPLY) require a fieldManager")
        }
        let force = request.parameter("force") == "true"
        let schema = type.isCustom ? nil : StrategicMergeSchema.builtIn(group: type.group, kind: type.kind)
        let time = ClusterStore.timestamp(store.now())
        var config = body
        if type.hasStatus, target == .main { config["status"] = nil }
        let warnings = try handler.validateFields(&config, type: type, request: request)
        let existing = await store.find(type, namespace: namespace, name: name)
        guard existing != nil else {
            var created: JSONValue
            do {
                created = try ServerSideApply.apply(config, to: nil, manager: manager, time: time, force: force, schema: schema)
            } catch { throw APIError(error.status) }
            if created[path: ["metadata", "name"]] == nil { created[path: ["metadata", "name"]] = .string(name) }
            let stored = try await store.create(type, namespace: namespace, object: created, dryRun: dryRun)
            return .json(stored, status: 201, warnings: warnings)
        }
        let updated = try await store.patch(type, namespace: namespace, name: name, target: target, dryRun: dryRun) { live throws(APIError) in
            do {
                var merged = try ServerSideApply.apply(config, to: live, manager: manager, time: time, force: force, schema: schema)
                merged[path: ["metadata", "resourceVersion"]] = live[path: ["metadata", "resourceVersion"]]
                return merged
            } catch let error as KubeModelsError {
                throw APIError(error.status)
            } catch {
                throw APIError.internalError("\(error)")
            }
        }
        return .json(updated, warnings: warnings)
    }

    /// Records a non-apply write's fields for its manager, so later applies see who owns what.
    static func recordUpdate(from old: JSONValue?, to new: JSONValue, request: APIRequest, type: ResourceType, store: ClusterStore, subresource: String?)
        -> JSONValue
    {
        guard let manager = request.parameter("fieldManager"), !manager.isEmpty else { return new }
        let schema = type.isCustom ? nil : StrategicMergeSchema.builtIn(group: type.group, kind: type.kind)
        return
            (try? ServerSideApply.recordUpdate(
                from: old, to: new, manager: manager, time: ClusterStore.timestamp(store.now()),
                subresource: subresource, schema: schema)) ?? new
    }
}
