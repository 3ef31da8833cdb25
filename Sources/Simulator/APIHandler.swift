import Foundation
import KubeModels

/// The simulated kube-apiserver's request handling: routing, verbs, discovery, server-side
/// printing, OpenAPI stubs, field validation and watch streams. HTTP-library independent.
public struct APIHandler: Sendable {
    public let store: ClusterStore
    public let log: RequestLog
    public let faults: FaultInjector
    public let pods: (any PodRuntime)?
    public static let serverVersion = (major: "1", minor: "37", gitVersion: "v1.37.0-longhorn-dr-sim")

    public init(store: ClusterStore, log: RequestLog = RequestLog(), faults: FaultInjector = FaultInjector(), pods: (any PodRuntime)? = nil) {
        self.store = store
        self.log = log
        self.faults = faults
        self.pods = pods
    }

    public func handle(_ request: APIRequest) async -> APIResponse {
        let query = request.query.flatMap { key, values in values.map { "\(key)=\($0)" } }.sorted().joined(separator: "&")
        let index = await log.append(
            RequestLog.Entry(
                method: request.method, path: request.path, query: query, accept: request.header("accept"),
                contentType: request.header("content-type"), upgrade: request.header("upgrade") ?? request.header(APIRequest.refusedUpgradeHeader),
                user: request.user.description, connection: request.connection, httpVersion: request.httpVersion,
                userAgent: request.header("user-agent")))
        let response = await route(request)
        await log.setStatus(index, response.status)
        return response
    }

    private func route(_ request: APIRequest) async -> APIResponse {
        let latency = await faults.latency
        if latency > .zero { try? await Task.sleep(for: latency) }
        switch request.path {
        case "/version", "/version/":
            return .json([
                "major": .string(Self.serverVersion.major), "minor": .string(Self.serverVersion.minor),
                "gitVersion": .string(Self.serverVersion.gitVersion), "platform": "linux/amd64", "goVersion": "go1.24.0",
                "compiler": "gc", "buildDate": "2026-01-01T00:00:00Z", "gitCommit": "0000000", "gitTreeState": "clean",
            ])
        case "/healthz", "/readyz", "/livez":
            return .text("ok")
        case "/api", "/apis":
            return await discoveryRoot(request)
        case "/openapi/v3":
            return await openAPIIndex()
        case "/openapi/v2":
            // kubectl reads v2 (protobuf only) to validate `kind: List` files client-side. A document
            // with no definitions lets it through: it checks only kinds it finds there, and each
            // item is then created with fieldValidation=Strict, so the server still checks them.
            // The one field set is `swagger: "2.0"` (openapi_v2.Document field 1).
            return APIResponse(
                status: 200, headers: [("Content-Type", "application/octet-stream")],
                body: .data(Data([0x0a, 0x03]) + Data("2.0".utf8)))
        default: break
        }
        if request.path.hasPrefix("/openapi/v3/") {
            return await openAPIDocument(String(request.path.dropFirst("/openapi/v3/".count)))
        }
        let parts = request.path.split(separator: "/")
        if (parts.count == 2 && parts[0] == "api") || (parts.count == 3 && parts[0] == "apis") {
            return await resourceList(group: parts.count == 3 ? String(parts[1]) : "", version: String(parts.last ?? ""))
        }
        guard let path = APIPath(request.path) else { return .error(.unknownResource) }
        guard let type = await store.type(group: path.group, resource: path.resource), type.version == path.version else {
            return .error(.unknownResource)
        }
        let verb = Self.verb(request, path)
        // Like the apiserver's RequestInfoFactory: a list or watch narrowed to one object by
        // `fieldSelector=metadata.name=X` is authorized as a request for that name, so a rule with
        // resourceNames allows it.
        var name = path.name
        if name == nil, verb == "list" || verb == "watch", let selector = request.query["fieldSelector"]?.first,
            selector.hasPrefix("metadata.name="), !selector.contains(",")
        {
            name = String(selector.dropFirst("metadata.name=".count))
        }
        let attributes = RBACAuthorizer.Attributes(
            verb: verb, group: path.group, resource: path.resource, subresource: path.subresource,
            namespace: type.namespaced ? path.namespace : nil, name: name)
        if let forbidden = await RBACAuthorizer.check(request.user, attributes, store: store) { return .error(forbidden) }
        var request = request
        if let contentType = request.header("content-type"), !request.body.isEmpty {
            // kubectl's generators (`kubectl create namespace|secret|deployment ...`) send protobuf
            // and do not fall back to JSON on a 415, so the kinds they make are decoded here.
            if contentType.contains("protobuf") {
                do {
                    request.body = try KubeProtobuf.decode(request.body).encoded()
                    request.headers["content-type"] = "application/json"
                } catch {
                    return .error(APIError(code: 415, reason: "UnsupportedMediaType", message: "the protobuf body could not be decoded: \(error)"))
                }
            } else if contentType.contains("cbor") {
                return .error(
                    APIError(
                        code: 415, reason: "UnsupportedMediaType",
                        message:
                            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"
                    ))
            }
        }
        if let fault = await faults.match(verb: verb, resource: path.resource) {
            var response = APIResponse.error(
                APIError(code: fault.status, reason: Self.reason(for: fault.status), message: "injected fault: \(verb) \(path.resource)"))
            if let seconds = fault.retryAfterSeconds { response.headers.append(("Retry-After", String(seconds))) }
            return response
        }
        do {
            return try await serve(request, path: path, type: type, verb: verb)
        } catch {
            return .error(error)
        }
    }

    static func verb(_ request: APIRequest, _ path: APIPath) -> String {
        switch request.method {
        case "GET":
            if ["true", "1"].contains(request.parameter("watch")) { return "watch" }
            return path.name == nil ? "list" : "get"
        case "POST": return "create"
        case "PUT": return "update"
        case "PATCH": return "patch"
        case "DELETE": return path.name == nil ? "deletecollection" : "delete"
        default: return request.method.lowercased()
        }
    }

    static func reason(for status: Int) -> String {
        switch status {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 409: "Conflict"
        case 410: "Expired"
        case 422: "Invalid"
        case 429: "TooManyRequests"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: "InternalError"
        }
    }

    // MARK: - Resources

    private func serve(_ request: APIRequest, path: APIPath, type: ResourceType, verb: String) async throws(APIError) -> APIResponse {
        if type.namespaced == false, path.namespace != nil { throw .unknownResource }
        let namespace = type.namespaced ? path.namespace : nil
        if let sub = path.subresource {
            guard type.subresources.contains(sub) else { throw .unknownResource }
            switch sub {
            case "status": break
            case "log":
                guard let pods, let name = path.name, let podNamespace = namespace else { throw .unknownResource }
                return try await pods.logs(request, namespace: podNamespace, pod: name)
            case "exec":
                if let pods, let name = path.name, let podNamespace = namespace {
                    try await pods.validateExec(request, namespace: podNamespace, pod: name)
                }
                // WebSocket upgrades are taken by the HTTP layer before they get here; what is left
                // is SPDY (which the simulator does not speak) or a plain request.
                if let refused = request.header(APIRequest.refusedUpgradeHeader) {
                    throw .badRequest(
                        "exec over \(refused) is not supported by the simulator: it speaks WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io); unset KUBECTL_REMOTE_COMMAND_WEBSOCKETS or set it to true"
                    )
                }
                throw .badRequest("Upgrade request required: the simulator supports exec over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io) only")
            case "scale": return try await scale(request, type: type, namespace: namespace, name: path.name)
            case "finalize":
                guard request.method == "PUT", let name = path.name else { throw .methodNotAllowed("finalize supports PUT only") }
                let body = try Self.decodeBody(request)
                return .json(
                    try await store.patch(type, namespace: nil, name: name) { old throws(APIError) in
                        var updated = old
                        updated[path: ["spec", "finalizers"]] = body[path: ["spec", "finalizers"]] ?? .array([])
                        return updated
                    })
            default: throw .unknownResource
            }
        }
        let target: ClusterStore.UpdateTarget = path.subresource == "status" ? .status : .main
        let dryRun = request.query["dryRun"]?.contains("All") == true
        switch verb {
        case "get":
            guard let name = path.name else { throw .unknownResource }
            let object = try await store.get(type, namespace: namespace, name: name)
            return respond(object, to: request, type: type)
        case "list":
            return try await list(request, type: type, namespace: namespace)
        case "watch":
            return try await watch(request, type: type, namespace: namespace, name: path.name)
        case "create":
            guard path.name == nil || path.subresource != nil else { throw .methodNotAllowed("POST to a named object is not allowed") }
            var body = try Self.decodeBody(request)
            let warnings = try validateFields(&body, type: type, request: request)
            body = ApplyHandler.recordUpdate(from: nil, to: body, request: request, type: type, store: store, subresource: nil)
            let created = try await store.create(type, namespace: namespace, object: body, dryRun: dryRun)
            return .json(created, status: 201, warnings: warnings)
        case "update":
            guard let name = path.name else { throw .methodNotAllowed("PUT needs an object name") }
            var body = try Self.decodeBody(request)
            let warnings = try validateFields(&body, type: type, request: request)
            let old = await store.find(type, namespace: namespace, name: name)
            body = ApplyHandler.recordUpdate(from: old, to: body, request: request, type: type, store: store, subresource: path.subresource)
            let updated = try await store.update(type, namespace: namespace, name: name, object: body, target: target, dryRun: dryRun)
            return .json(updated, warnings: warnings)
        case "patch":
            guard let name = path.name else { throw .methodNotAllowed("PATCH needs an object name") }
            return try await patch(request, path: path, type: type, namespace: namespace, name: name, target: target, dryRun: dryRun)
        case "delete":
            guard let name = path.name else { throw .unknownResource }
            let options = try Self.deleteOptions(request)
            let result = try await store.delete(type, namespace: namespace, name: name, options: options)
            return .json(result.object)
        case "deletecollection":
            let options = try Self.deleteOptions(request)
            let filter = try await selectorFilter(request, type: type)
            let items = try await store.list(type, namespace: namespace, filter: filter).items
            for item in items {
                guard let name = item[path: ["metadata", "name"]]?.stringValue else { continue }
                _ = try? await store.delete(type, namespace: namespace, name: name, options: options)
            }
            return .json(["kind": .string("\(type.kind)List"), "apiVersion": .string(type.apiVersion), "metadata": [:], "items": .array(items)])
        default:
            throw .methodNotAllowed("\(request.method) is not supported on \(type.resource)")
        }
    }

    static func decodeBody(_ request: APIRequest) throws(APIError) -> JSONValue {
        guard !request.body.isEmpty else { throw .badRequest("the request body is empty") }
        do {
            return try JSONValue(parsing: request.body)
        } catch {
            // kubectl sends JSON; YAML bodies come from other clients (and server-side apply).
            if let yaml = try? YAMLBody.parse(request.body) { return yaml }
            throw .badRequest("the body of the request was in an unknown format: \(error)")
        }
    }

    static func deleteOptions(_ request: APIRequest) throws(APIError) -> ClusterStore.DeleteOptions {
        var options = ClusterStore.DeleteOptions()
        var body: JSONValue = [:]
        if !request.body.isEmpty { body = try decodeBody(request) }
        let propagation = body["propagationPolicy"]?.stringValue ?? request.parameter("propagationPolicy")
        if let propagation {
            guard let value = ClusterStore.DeleteOptions.Propagation(rawValue: propagation) else {
                throw .badRequest("propagationPolicy: Unsupported value: \"\(propagation)\"")
            }
            options.propagation = value
        } else if body["orphanDependents"]?.boolValue == true {
            options.propagation = .orphan
        }
        options.preconditionUID = body[path: ["preconditions", "uid"]]?.stringValue
        options.preconditionResourceVersion = body[path: ["preconditions", "resourceVersion"]]?.stringValue
        options.gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue ?? request.parameter("gracePeriodSeconds").flatMap { Int($0) }
        options.dryRun = body["dryRun"]?.arrayValue?.contains("All") == true || request.query["dryRun"]?.contains("All") == true
        return options
    }

    // MARK: - List and watch

    private func selectorFilter(_ request: APIRequest, type: ResourceType) async throws(APIError) -> @Sendable (JSONValue) -> Bool {
        let labelSelector: LabelSelector?
        if let text = request.parameter("labelSelector"), !text.isEmpty {
            do { labelSelector = try LabelSelector(parsing: text) } catch {
                throw APIError(error.status)
            }
        } else {
            labelSelector = nil
        }
        let fieldSelector: FieldSelector?
        let supported = Set(["metadata.name", "metadata.namespace"] + type.fieldSelectors)
        if let text = request.parameter("fieldSelector"), !text.isEmpty {
            do {
                let parsed = try FieldSelector(parsing: text)
                try parsed.validate(supportedFields: supported)
                fieldSelector = parsed
            } catch {
                throw APIError(error.status)
            }
        } else {
            fieldSelector = nil
        }
        return { object in
            if let labelSelector {
                let labels = (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                guard labelSelector.matches(labels) else { return false }
            }
            if let fieldSelector, (try? fieldSelector.matches(object, supportedFields: supported)) != true { return false }
            return true
        }
    }

    private func list(_ request: APIRequest, type: ResourceType, namespace: String?) async throws(APIError) -> APIResponse {
        let filter = try await selectorFilter(request, type: type)
        let limit = request.parameter("limit").flatMap { Int($0) }
        let result = try await store.list(type, namespace: namespace, filter: filter, limit: limit, continueToken: request.parameter("continue"))
        var metadata: JSONValue = ["resourceVersion": .string(result.resourceVersion)]
        if let token = result.continueToken { metadata["continue"] = .string(token) }
        if let remaining = result.remainingItemCount { metadata["remainingItemCount"] = .number(Double(remaining)) }
        if TablePrinter.wantsTable(request) {
            var table = TablePrinter.table(type, objects: result.items, includeObject: request.parameter("includeObject"), now: store.now())
            table["metadata"] = metadata
            return .json(table)
        }
        return .json(["kind": .string("\(type.kind)List"), "apiVersion": .string(type.apiVersion), "metadata": metadata, "items": .array(result.items)])
    }

    private func watch(_ request: APIRequest, type: ResourceType, namespace: String?, name: String?) async throws(APIError) -> APIResponse {
        var filter = try await selectorFilter(request, type: type)
        if let name {
            let base = filter
            filter = { base($0) && $0[path: ["metadata", "name"]]?.stringValue == name }
        }
        let version = request.parameter("resourceVersion").flatMap { Int64($0) }
        let sendInitial = request.parameter("sendInitialEvents") == "true"
        let events: AsyncStream<WatchEvent>
        do {
            events = try await store.watch(
                type, namespace: namespace, fromRevision: version == 0 ? nil : version,
                sendInitialEvents: sendInitial, filter: filter)
        } catch  where error.code == 410 {
            // The real server accepts the watch and then sends one ERROR event with the 410 Status.
            var line = WatchEvent(.error, error.status.json).json.encoded()
            line.append(0x0A)
            return APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: .data(line))
        }
        let table = TablePrinter.wantsTable(request)
        let includeObject = request.parameter("includeObject")
        let timeout = request.parameter("timeoutSeconds").flatMap { Int($0) }
        let now = store.now
        let (output, continuation) = AsyncStream.makeStream(of: Data.self)
        // One task per watch connection pumps store events into the HTTP body; it ends when the
        // client leaves (onTermination cancels it), the timeout passes, or the store drops watches.
        let pump = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events {
                        var object = event.object
                        if table, event.type != .bookmark {
                            object = TablePrinter.table(type, objects: [object], includeObject: includeObject, now: now())
                            object["metadata"] = ["resourceVersion": event.object[path: ["metadata", "resourceVersion"]] ?? ""]
                        }
                        var line = WatchEvent(event.type, object).json.encoded()
                        line.append(0x0A)
                        continuation.yield(line)
                    }
                }
                if let timeout {
                    group.addTask { try? await Task.sleep(for: .seconds(timeout)) }
                }
                await group.next()
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in pump.cancel() }
        return APIResponse(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-cache, private")], body: .stream(output))
    }

    private func respond(_ object: JSONValue, to request: APIRequest, type: ResourceType) -> APIResponse {
        if TablePrinter.wantsTable(request) {
            var table = TablePrinter.table(type, objects: [object], includeObject: request.parameter("includeObject"), now: store.now())
            table["metadata"] = ["resourceVersion": object[path: ["metadata", "resourceVersion"]] ?? ""]
            return .json(table)
        }
        return .json(object)
    }

    // MARK: - Scale

    /// The `scale` subresource (`kubectl scale`): an `autoscaling/v1` Scale read from and written
    /// to the workload's `spec.replicas`, as the apiserver's registry for Deployments and
    /// ReplicaSets does. GET, PUT and every patch type but apply.
    private func scale(_ request: APIRequest, type: ResourceType, namespace: String?, name: String?) async throws(APIError) -> APIResponse {
        guard let name else { throw .unknownResource }
        func view(_ object: JSONValue) -> JSONValue {
            let labels = object[path: ["spec", "selector", "matchLabels"]]?.objectValue ?? [:]
            let selector = labels.keys.sorted().map { "\($0)=\(labels[$0]?.stringValue ?? "")" }.joined(separator: ",")
            return [
                "apiVersion": "autoscaling/v1", "kind": "Scale",
                "metadata": [
                    "name": object[path: ["metadata", "name"]] ?? "", "namespace": object[path: ["metadata", "namespace"]] ?? .null,
                    "uid": object[path: ["metadata", "uid"]] ?? "", "resourceVersion": object[path: ["metadata", "resourceVersion"]] ?? "",
                    "creationTimestamp": object[path: ["metadata", "creationTimestamp"]] ?? .null,
                ],
                "spec": ["replicas": object[path: ["spec", "replicas"]] ?? 1],
                "status": ["replicas": object[path: ["status", "replicas"]] ?? 0, "selector": .string(selector)],
            ]
        }
        switch request.method {
        case "GET":
            return .json(view(try await store.get(type, namespace: namespace, name: name)))
        case "PUT", "PATCH":
            let contentType = (request.header("content-type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            let body = try Self.decodeBody(request)
            let kind: PatchKind? = request.method == "PUT" ? nil : PatchKind(contentType: contentType)
            if request.method == "PATCH", kind == nil || kind == .apply { throw .unsupportedMediaType(contentType) }
            let updated = try await store.patch(type, namespace: namespace, name: name, dryRun: request.query["dryRun"]?.contains("All") == true) {
                old throws(APIError) in
                let current = view(old)
                let wanted =
                    try kind.map { kind throws(APIError) in try PatchApplier.apply(kind == .strategic ? .merge : kind, patch: body, to: current, type: type) }
                    ?? body
                guard let replicas = wanted[path: ["spec", "replicas"]]?.intValue, replicas >= 0 else {
                    throw APIError.invalid(
                        type, name,
                        causes: [(field: "spec.replicas", reason: "FieldValueInvalid", message: "Invalid value: must be greater than or equal to 0")])
                }
                var new = old
                new[path: ["spec", "replicas"]] = .number(Double(replicas))
                return new
            }
            return .json(view(updated))
        default:
            throw .methodNotAllowed("\(request.method) is not supported on \(type.resource)/scale")
        }
    }

    // MARK: - Patch

    private func patch(
        _ request: APIRequest, path: APIPath, type: ResourceType, namespace: String?, name: String, target: ClusterStore.UpdateTarget, dryRun: Bool
    ) async throws(APIError) -> APIResponse {
        let contentType = (request.header("content-type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard let kind = PatchKind(contentType: contentType) else { throw .unsupportedMediaType(contentType) }
        if kind == .strategic, type.isCustom { throw .unsupportedMediaType(contentType) }
        let body = try Self.decodeBody(request)
        if kind == .apply {
            return try await ApplyHandler.apply(
                request, body: body, type: type, namespace: namespace, name: name, target: target, dryRun: dryRun, store: store, handler: self)
        }
        var warnings: [String] = []
        let updated = try await store.patch(type, namespace: namespace, name: name, target: target, dryRun: dryRun) { old throws(APIError) in
            var patched = try PatchApplier.apply(kind, patch: body, to: old, type: type)
            warnings = try validateFields(&patched, type: type, request: request)
            return ApplyHandler.recordUpdate(from: old, to: patched, request: request, type: type, store: store, subresource: path.subresource)
        }
        return .json(updated, warnings: warnings)
    }

    /// Checks unknown fields against `fieldValidation` (Strict, Warn or Ignore; kubectl sends Strict by default).
    func validateFields(_ object: inout JSONValue, type: ResourceType, request: APIRequest) throws(APIError) -> [String] {
        let mode = request.parameter("fieldValidation") ?? "Warn"
        let unknown = FieldValidator.unknownFields(object, type: type)
        guard !unknown.isEmpty else { return [] }
        switch mode {
        case "Strict":
            let list = unknown.map { "unknown field \"\($0)\"" }
            throw .badRequest("strict decoding error: \(list.joined(separator: ", "))")
        case "Ignore":
            FieldValidator.prune(&object, type: type)
            return []
        default:
            FieldValidator.prune(&object, type: type)
            return unknown.map { "unknown field \"\($0)\"" }
        }
    }

    // MARK: - Discovery

    private func discoveryRoot(_ request: APIRequest) async -> APIResponse {
        let types = await Array(store.types.values)
        let core = request.path == "/api"
        if (request.header("accept") ?? "").contains("as=APIGroupDiscoveryList") {
            return .json(
                Discovery.aggregated(types, core: core),
                contentType: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        }
        return .json(core ? Discovery.legacyVersions() : Discovery.legacyGroups(types))
    }

    private func resourceList(group: String, version: String) async -> APIResponse {
        let types = await store.types.values.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { return .error(.unknownResource) }
        return .json(Discovery.resourceList(types, group: group, version: version))
    }

    private func openAPIIndex() async -> APIResponse {
        let types = await Array(store.types.values)
        return .json(OpenAPIDocuments.index(types))
    }

    private func openAPIDocument(_ groupVersion: String) async -> APIResponse {
        let types = await Array(store.types.values)
        guard let document = OpenAPIDocuments.document(groupVersion, types: types) else { return .error(.unknownResource) }
        return .json(document)
    }
}
