import Foundation
import KubeModels

/// The simulated API server's storage: every object of every kind, one global revision counter
/// (like an etcd revision), a bounded change history for watches, and the API conventions that
/// the real server enforces on writes.
///
/// The HTTP layer and the in-process controllers both go through this actor, so what a test sees
/// over the wire is exactly what the controllers made.
public actor ClusterStore {
    public private(set) var types: [String: ResourceType] = [:]
    private var objects: [String: [String: JSONValue]] = [:]
    private(set) var revision: Int64 = 100
    private var history: [StoredChange] = []
    /// Changes at or below this revision are gone; watches and continue tokens from before fail with 410.
    private(set) var compactedRevision: Int64 = 100
    private var watchers: [UUID: Watcher] = [:]
    private var admission: [any AdmissionPlugin] = []
    let historyLimit: Int
    let now: @Sendable () -> Date

    struct Watcher {
        var typeID: String
        var namespace: String?
        var filter: @Sendable (JSONValue) -> Bool
        var continuation: AsyncStream<WatchEvent>.Continuation
    }

    public init(historyLimit: Int = 10_000, now: @escaping @Sendable () -> Date = { Date() }) {
        self.historyLimit = historyLimit
        self.now = now
        for type in BuiltinResources.all { types[type.id] = type }
    }

    // MARK: - Registration

    public func register(_ type: ResourceType) {
        types[type.id] = type
    }

    public func unregister(typeID: String) {
        types[typeID] = nil
        objects[typeID] = nil
    }

    public func addAdmission(_ plugin: any AdmissionPlugin) {
        admission.append(plugin)
    }

    /// The type serving `resource` in `group`, e.g. ("apps", "deployments").
    public func type(group: String, resource: String) -> ResourceType? {
        types[group.isEmpty ? resource : "\(resource).\(group)"]
    }

    public func type(kind: String, apiVersion: String) -> ResourceType? {
        types.values.first { $0.kind == kind && $0.apiVersion == apiVersion }
    }

    // MARK: - Reads

    public func get(_ type: ResourceType, namespace: String?, name: String) throws(APIError) -> JSONValue {
        guard let object = objects[type.id]?[key(type, namespace, name)] else { throw .notFound(type, name) }
        return object
    }

    /// Reads without throwing, for controllers.
    public func find(_ type: ResourceType, namespace: String?, name: String) -> JSONValue? {
        objects[type.id]?[key(type, namespace, name)]
    }

    public struct ListResult: Sendable {
        public var items: [JSONValue]
        public var resourceVersion: String
        public var continueToken: String?
        public var remainingItemCount: Int?
    }

    /// Lists objects in key order, filtered, one page at a time.
    public func list(
        _ type: ResourceType, namespace: String?, filter: @Sendable (JSONValue) -> Bool = { _ in true },
        limit: Int? = nil, continueToken: String? = nil
    ) throws(APIError) -> ListResult {
        var startAfter: String?
        if let continueToken {
            guard let token = ContinueToken(encoded: continueToken) else {
                throw .badRequest("continue key is not valid: \(continueToken)")
            }
            guard token.revision > compactedRevision else {
                throw .expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
                )
            }
            startAfter = token.startAfter
        }
        let prefix = namespace.map { "\($0)/" }
        let keys = (objects[type.id] ?? [:]).keys.sorted().filter { key in
            (prefix == nil || key.hasPrefix(prefix!)) && (startAfter == nil || key > startAfter!)
        }
        var items: [JSONValue] = []
        var lastKey: String?
        var remaining = 0
        for key in keys {
            guard let object = objects[type.id]?[key], filter(object) else { continue }
            if let limit, limit > 0, items.count >= limit {
                remaining += 1
                continue
            }
            items.append(object)
            lastKey = key
        }
        var result = ListResult(items: items, resourceVersion: String(revision))
        if remaining > 0, let lastKey {
            result.continueToken = ContinueToken(revision: revision, startAfter: lastKey).encoded
            result.remainingItemCount = remaining
        }
        return result
    }

    // MARK: - Writes

    /// Creates an object, filling the metadata the server owns.
    /// - Throws: 409 AlreadyExists, 404 for a missing namespace, 403 in a terminating one, 422 for invalid names.
    @discardableResult
    public func create(_ type: ResourceType, namespace: String?, object input: JSONValue, dryRun: Bool = false) throws(APIError) -> JSONValue {
        var object = input
        try checkTypeMeta(type, &object)
        let namespace = try resolveNamespace(type, urlNamespace: namespace, object: &object)
        if object[path: ["metadata", "resourceVersion"]]?.stringValue.map({ !$0.isEmpty }) == true {
            throw .badRequest("resourceVersion should not be set on objects to be created")
        }
        var name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if name.isEmpty {
            guard let prefix = object[path: ["metadata", "generateName"]]?.stringValue, !prefix.isEmpty else {
                throw .invalid(type, "", causes: [("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")])
            }
            name = generatedName(type, namespace: namespace, prefix: prefix)
            object[path: ["metadata", "name"]] = .string(name)
        }
        try validateName(type, name)
        if let namespace, type.resource != "namespaces" {
            guard let ns = objects["namespaces"]?[key(nil, nil, namespace)] else { throw .namespaceNotFound(namespace) }
            if ns[path: ["metadata", "deletionTimestamp"]] != nil || ns[path: ["status", "phase"]]?.stringValue == "Terminating" {
                throw .forbidden(
                    "\(type.resource) \"\(name)\" is forbidden: unable to create new content in namespace \(namespace) because it is being terminated", type,
                    name: name)
            }
        }
        let storageKey = key(type, namespace, name)
        if objects[type.id]?[storageKey] != nil { throw .alreadyExists(type, name) }

        object[path: ["metadata", "uid"]] = .string(UUID().uuidString.lowercased())
        object[path: ["metadata", "creationTimestamp"]] = .string(Self.timestamp(now()))
        object[path: ["metadata", "deletionTimestamp"]] = nil
        if type.hasSpec { object[path: ["metadata", "generation"]] = 1 }
        if type.hasStatus && type.isCustom { object["status"] = nil }
        object = try admit(.create, type, object, old: nil)
        guard !dryRun else {
            object[path: ["metadata", "resourceVersion"]] = .string(String(revision))
            return object
        }
        revision += 1
        object[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        objects[type.id, default: [:]][storageKey] = object
        record(StoredChange(revision: revision, typeID: type.id, namespace: namespace ?? "", type: .added, object: object, previous: nil))
        return object
    }

    public enum UpdateTarget: Sendable { case main, status }

    /// Replaces an object (PUT). A stale `resourceVersion` is a 409; a write that changes nothing
    /// persists nothing (same resourceVersion, no event).
    @discardableResult
    public func update(
        _ type: ResourceType, namespace: String?, name: String, object input: JSONValue, target: UpdateTarget = .main,
        dryRun: Bool = false, requireResourceVersion: Bool? = nil
    ) throws(APIError) -> JSONValue {
        var object = input
        try checkTypeMeta(type, &object)
        _ = try resolveNamespace(type, urlNamespace: namespace, object: &object)
        if let bodyName = object[path: ["metadata", "name"]]?.stringValue, bodyName != name {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let storageKey = key(type, namespace, name)
        guard let old = objects[type.id]?[storageKey] else { throw .notFound(type, name) }
        let given = object[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
        if given.isEmpty {
            if requireResourceVersion ?? type.isCustom {
                throw .invalid(type, name, causes: [("metadata.resourceVersion", "FieldValueInvalid", "Invalid value: 0x0: must be specified for an update")])
            }
        } else if given != old[path: ["metadata", "resourceVersion"]]?.stringValue {
            throw .conflict(type, name)
        }
        var updated: JSONValue
        switch target {
        case .status:
            updated = old
            updated["status"] = object["status"]
        case .main:
            updated = object
            if type.hasStatus { updated["status"] = old["status"] }
            // Fields the server owns are carried over whatever the client sent.
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "managedFields"] {
                updated[path: ["metadata", field]] = old[path: ["metadata", field]]
            }
            if object[path: ["metadata", "managedFields"]] != nil {
                updated[path: ["metadata", "managedFields"]] = object[path: ["metadata", "managedFields"]]
            }
        }
        updated[path: ["metadata", "resourceVersion"]] = old[path: ["metadata", "resourceVersion"]]
        try checkFinalizers(type, name, old: old, new: updated)
        updated = try admit(.update, type, updated, old: old)
        if type.hasSpec, target == .main, updated["spec"] != old["spec"] {
            let generation = old[path: ["metadata", "generation"]]?.intValue ?? 1
            updated[path: ["metadata", "generation"]] = .number(Double(generation + 1))
        }
        if updated == old { return old }
        guard !dryRun else { return updated }
        return commitUpdate(type, storageKey: storageKey, namespace: namespace, old: old, new: updated)
    }

    /// Reads, transforms and writes an object in one step (PATCH): no conflict unless the
    /// transform's result carries a resourceVersion different from the stored one.
    @discardableResult
    public func patch(
        _ type: ResourceType, namespace: String?, name: String, target: UpdateTarget = .main, dryRun: Bool = false,
        transform: (JSONValue) throws(APIError) -> JSONValue
    ) throws(APIError) -> JSONValue {
        let old = try get(type, namespace: namespace, name: name)
        var patched = try transform(old)
        if patched[path: ["metadata", "resourceVersion"]] == nil {
            patched[path: ["metadata", "resourceVersion"]] = old[path: ["metadata", "resourceVersion"]]
        }
        return try update(type, namespace: namespace, name: name, object: patched, target: target, dryRun: dryRun, requireResourceVersion: false)
    }

    public struct DeleteOptions: Sendable {
        public enum Propagation: String, Sendable {
            case background = "Background"
            case foreground = "Foreground"
            case orphan = "Orphan"
        }
        public var propagation: Propagation?
        public var preconditionUID: String?
        public var preconditionResourceVersion: String?
        public var gracePeriodSeconds: Int?
        public var dryRun = false
        public init(propagation: Propagation? = nil) { self.propagation = propagation }
    }

    /// Deletes an object; with finalizers it only gets a deletionTimestamp until they are removed.
    /// - Returns: the object as last stored (with deletionTimestamp when it lingers), and whether it is gone.
    @discardableResult
    public func delete(_ type: ResourceType, namespace: String?, name: String, options: DeleteOptions = DeleteOptions()) throws(APIError) -> (
        object: JSONValue, gone: Bool
    ) {
        let storageKey = key(type, namespace, name)
        guard let old = objects[type.id]?[storageKey] else { throw .notFound(type, name) }
        if let uid = options.preconditionUID, uid != old[path: ["metadata", "uid"]]?.stringValue {
            throw APIError(
                .conflict(
                    resource: type.resource, group: type.group, name: name,
                    detail: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old[path: ["metadata", "uid"]]?.stringValue ?? "")"))
        }
        if let version = options.preconditionResourceVersion, version != old[path: ["metadata", "resourceVersion"]]?.stringValue {
            throw .conflict(type, name)
        }
        if let graceful = gracefulPodDeletion(type, storageKey: storageKey, namespace: namespace, old: old, options: options) {
            return graceful
        }
        var finalizers = (old[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue)
        switch options.propagation {
        case .foreground? where !finalizers.contains("foregroundDeletion"): finalizers.append("foregroundDeletion")
        case .orphan? where !finalizers.contains("orphan"): finalizers.append("orphan")
        default: break
        }
        if type.resource == "namespaces", !finalizers.contains("kubernetes"), old[path: ["spec", "finalizers"]]?.arrayValue?.isEmpty == false {
            // Namespaces wait for the namespace controller through spec.finalizers.
        }
        let lingers = !finalizers.isEmpty || (type.resource == "namespaces" && old[path: ["spec", "finalizers"]]?.arrayValue?.isEmpty == false)
        if options.dryRun { return (old, !lingers) }
        guard lingers else {
            return (remove(type, storageKey: storageKey, namespace: namespace, object: old), true)
        }
        var updated = old
        if type.group.isEmpty, type.resource == "pods", options.gracePeriodSeconds == 0,
            (old[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? 0) > 0
        {
            // The kubelet is done; what is left waits for finalizers only.
            updated[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
        } else if old[path: ["metadata", "deletionTimestamp"]] != nil
            && finalizers == (old[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue)
        {
            return (old, false)
        }
        updated[path: ["metadata", "finalizers"]] = .array(finalizers.map { .string($0) })
        if updated[path: ["metadata", "deletionTimestamp"]] == nil {
            updated[path: ["metadata", "deletionTimestamp"]] = .string(Self.timestamp(now()))
            updated[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
        }
        if type.resource == "namespaces" { updated[path: ["status", "phase"]] = "Terminating" }
        return (commitUpdate(type, storageKey: storageKey, namespace: namespace, old: old, new: updated), false)
    }

    /// Pods on a node are not removed at once: they get a deletionTimestamp `grace` seconds ahead and the
    /// kubelet finishes the delete (with grace 0) once the containers stopped. Pods that never ran or
    /// already finished go at once, as in the real apiserver.
    /// - Returns: nil when the ordinary delete path applies.
    private func gracefulPodDeletion(
        _ type: ResourceType, storageKey: String, namespace: String?, old: JSONValue, options: DeleteOptions
    ) -> (object: JSONValue, gone: Bool)? {
        guard type.group.isEmpty, type.resource == "pods", !options.dryRun else { return nil }
        let phase = old[path: ["status", "phase"]]?.stringValue
        let scheduled = !(old[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty
        let grace = options.gracePeriodSeconds ?? old[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
        guard scheduled, phase != "Succeeded", phase != "Failed", grace > 0 else { return nil }
        if old[path: ["metadata", "deletionTimestamp"]] != nil { return (old, false) }
        var updated = old
        updated[path: ["metadata", "deletionTimestamp"]] = .string(Self.timestamp(now().addingTimeInterval(TimeInterval(grace))))
        updated[path: ["metadata", "deletionGracePeriodSeconds"]] = .number(Double(grace))
        return (commitUpdate(type, storageKey: storageKey, namespace: namespace, old: old, new: updated), false)
    }

    // MARK: - Watch

    /// Streams changes after `fromRevision` (or every current object first, when nil or `sendInitialEvents`).
    /// - Throws: 410 Expired when `fromRevision` is older than the kept history.
    public func watch(
        _ type: ResourceType, namespace: String?, fromRevision: Int64?, sendInitialEvents: Bool = false,
        filter: @escaping @Sendable (JSONValue) -> Bool = { _ in true }
    ) throws(APIError) -> AsyncStream<WatchEvent> {
        if let fromRevision, !sendInitialEvents, fromRevision < compactedRevision {
            throw .expired("too old resource version: \(fromRevision) (\(compactedRevision + 1))")
        }
        let (stream, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .unbounded)
        if fromRevision == nil || sendInitialEvents {
            let prefix = namespace.map { "\($0)/" }
            for (key, object) in (objects[type.id] ?? [:]).sorted(by: { $0.key < $1.key })
            where (prefix == nil || key.hasPrefix(prefix!)) && filter(object) {
                continuation.yield(WatchEvent(.added, object))
            }
            if sendInitialEvents {
                continuation.yield(
                    WatchEvent(
                        .bookmark,
                        [
                            "kind": .string(type.kind), "apiVersion": .string(type.apiVersion),
                            "metadata": ["resourceVersion": .string(String(revision)), "annotations": ["k8s.io/initial-events-end": "true"]],
                        ]))
            }
        } else if let fromRevision {
            for change in history
            where change.revision > fromRevision && change.typeID == type.id
                && (namespace == nil || change.namespace == namespace)
            {
                if let event = Self.event(for: change, filter: filter) { continuation.yield(event) }
            }
        }
        let id = UUID()
        watchers[id] = Watcher(typeID: type.id, namespace: namespace, filter: filter, continuation: continuation)
        continuation.onTermination = { [weak self] _ in
            // The stream ends from outside the actor; hop back to forget the watcher.
            Task { await self?.removeWatcher(id) }
        }
        return stream
    }

    private func removeWatcher(_ id: UUID) {
        watchers[id] = nil
    }

    /// Ends every open watch, as an API server restart or a dropped connection would.
    public func dropAllWatches() {
        for watcher in watchers.values { watcher.continuation.finish() }
        watchers.removeAll()
    }

    /// Forgets all history, so every older resourceVersion and continue token gets 410.
    public func compact() {
        history.removeAll()
        compactedRevision = revision
    }

    public var currentRevision: Int64 { revision }

    // MARK: - Internals

    private func key(_ type: ResourceType?, _ namespace: String?, _ name: String) -> String {
        if let type, !type.namespaced { return "/\(name)" }
        return "\(namespace ?? "")/\(name)"
    }

    private func checkTypeMeta(_ type: ResourceType, _ object: inout JSONValue) throws(APIError) {
        guard object.objectValue != nil else { throw .badRequest("the body of the request must be a JSON object") }
        if let kind = object["kind"]?.stringValue, kind != type.kind {
            throw .badRequest(
                "the API version in the data (\(object["apiVersion"]?.stringValue ?? "")) does not match the expected API version (\(type.apiVersion))")
        }
        if let version = object["apiVersion"]?.stringValue, version != type.apiVersion {
            throw .badRequest("the API version in the data (\(version)) does not match the expected API version (\(type.apiVersion))")
        }
        object["kind"] = .string(type.kind)
        object["apiVersion"] = .string(type.apiVersion)
        if object["metadata"]?.objectValue == nil { object["metadata"] = [:] }
    }

    private func resolveNamespace(_ type: ResourceType, urlNamespace: String?, object: inout JSONValue) throws(APIError) -> String? {
        guard type.namespaced else {
            object[path: ["metadata", "namespace"]] = nil
            return nil
        }
        let body = object[path: ["metadata", "namespace"]]?.stringValue
        guard let namespace = urlNamespace ?? body, !namespace.isEmpty else {
            throw .badRequest("an empty namespace may not be set during creation")
        }
        if let body, !body.isEmpty, body != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        object[path: ["metadata", "namespace"]] = .string(namespace)
        return namespace
    }

    private func validateName(_ type: ResourceType, _ name: String) throws(APIError) {
        let isLabel = type.resource == "namespaces"
        let message =
            isLabel
            ? "Invalid value: \"\(name)\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            : "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        if !Self.isDNSName(name, label: isLabel) || name.count > (isLabel ? 63 : 253) {
            throw .invalid(type, name, causes: [("metadata.name", "FieldValueInvalid", message)])
        }
    }

    static func isDNSName(_ name: String, label: Bool) -> Bool {
        let parts = label ? [Substring(name)] : name.split(separator: ".", omittingEmptySubsequences: false)
        return !name.isEmpty
            && parts.allSatisfy { part in
                guard let first = part.first, let last = part.last, part.count <= 63 else { return false }
                let ok: (Character) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
                return ok(first) && ok(last) && part.allSatisfy { ok($0) || $0 == "-" }
            }
    }

    private func generatedName(_ type: ResourceType, namespace: String?, prefix: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        while true {
            let suffix = String((0..<5).map { _ in alphabet.randomElement() ?? "x" })
            let candidate = "\(prefix)\(suffix)"
            if objects[type.id]?[key(type, namespace, candidate)] == nil { return candidate }
        }
    }

    private func checkFinalizers(_ type: ResourceType, _ name: String, old: JSONValue, new: JSONValue) throws(APIError) {
        guard old[path: ["metadata", "deletionTimestamp"]] != nil else { return }
        let before = Set((old[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue))
        let after = Set((new[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue))
        if !after.isSubset(of: before) {
            throw .invalid(
                type, name,
                causes: [
                    (
                        "metadata.finalizers", "FieldValueForbidden",
                        "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\(after.subtracting(before).sorted().map { "\"\($0)\"" }.joined(separator: ", "))}"
                    )
                ])
        }
    }

    private func admit(_ operation: AdmissionOperation, _ type: ResourceType, _ object: JSONValue, old: JSONValue?) throws(APIError) -> JSONValue {
        var object = object
        for plugin in admission {
            try plugin.admit(&object, operation: operation, type: type, old: old, store: self)
        }
        return object
    }

    /// Stores an update; removes the object instead when it is being deleted and its last finalizer went away.
    private func commitUpdate(_ type: ResourceType, storageKey: String, namespace: String?, old: JSONValue, new: JSONValue) -> JSONValue {
        var new = new
        let finalizers = new[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        let nsFinalizers = type.resource == "namespaces" ? (new[path: ["spec", "finalizers"]]?.arrayValue ?? []) : []
        // A pod in its grace period waits for the kubelet, not for finalizers.
        let podInGrace = type.group.isEmpty && type.resource == "pods" && (new[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? 0) > 0
        if new[path: ["metadata", "deletionTimestamp"]] != nil, finalizers.isEmpty, nsFinalizers.isEmpty, !podInGrace {
            return remove(type, storageKey: storageKey, namespace: namespace, object: new)
        }
        revision += 1
        new[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        objects[type.id, default: [:]][storageKey] = new
        record(StoredChange(revision: revision, typeID: type.id, namespace: namespace ?? "", type: .modified, object: new, previous: old))
        return new
    }

    private func remove(_ type: ResourceType, storageKey: String, namespace: String?, object: JSONValue) -> JSONValue {
        objects[type.id]?[storageKey] = nil
        revision += 1
        var gone = object
        gone[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        record(StoredChange(revision: revision, typeID: type.id, namespace: namespace ?? "", type: .deleted, object: gone, previous: object))
        return gone
    }

    private func record(_ change: StoredChange) {
        if change.typeID == "customresourcedefinitions.apiextensions.k8s.io" {
            syncCustomResource(change)
        }
        history.append(change)
        if history.count > historyLimit {
            let drop = history.count - historyLimit
            compactedRevision = history[drop - 1].revision
            history.removeFirst(drop)
        }
        for watcher in watchers.values where watcher.typeID == change.typeID && (watcher.namespace == nil || watcher.namespace == change.namespace) {
            if let event = Self.event(for: change, filter: watcher.filter) { watcher.continuation.yield(event) }
        }
    }

    /// What a filtered watch sees of a change: objects entering the selection are ADDED, leaving it DELETED.
    static func event(for change: StoredChange, filter: (JSONValue) -> Bool) -> WatchEvent? {
        let now = filter(change.object)
        let before = change.previous.map(filter) ?? false
        switch change.type {
        case .added: return now ? WatchEvent(.added, change.object) : nil
        case .deleted: return (before || now) ? WatchEvent(.deleted, change.object) : nil
        default:
            switch (before, now) {
            case (true, true): return WatchEvent(.modified, change.object)
            case (false, true): return WatchEvent(.added, change.object)
            case (true, false): return WatchEvent(.deleted, change.object)
            case (false, false): return nil
            }
        }
    }

    /// A CRD's kind is served as soon as the CRD is stored, and gone with it.
    private func syncCustomResource(_ change: StoredChange) {
        if let previous = change.previous, let oldType = CustomResourceDefinitions.resourceType(from: previous) {
            types[oldType.id] = nil
        }
        guard change.type != .deleted, let type = CustomResourceDefinitions.resourceType(from: change.object) else {
            if let type = CustomResourceDefinitions.resourceType(from: change.object) { objects[type.id] = nil }
            return
        }
        types[type.id] = type
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// An opaque continue token: the revision of the first page and the last key returned.
struct ContinueToken {
    var revision: Int64
    var startAfter: String

    init(revision: Int64, startAfter: String) {
        self.revision = revision
        self.startAfter = startAfter
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded), let value = try? JSONValue(parsing: data),
            let revision = value["rv"]?.numberValue, let start = value["start"]?.stringValue
        else { return nil }
        self.revision = Int64(revision)
        self.startAfter = start
    }

    var encoded: String {
        let value: JSONValue = ["rv": .number(Double(revision)), "start": .string(startAfter)]
        return value.encoded().base64EncodedString()
    }
}

public enum AdmissionOperation: Sendable { case create, update }

/// A mutating/validating admission step run inside the store on every create and update,
/// like the apiserver's admission chain (defaults, default StorageClass, Longhorn's webhooks).
public protocol AdmissionPlugin: Sendable {
    func admit(_ object: inout JSONValue, operation: AdmissionOperation, type: ResourceType, old: JSONValue?, store: isolated ClusterStore) throws(APIError)
}
