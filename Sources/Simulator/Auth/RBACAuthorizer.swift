import Foundation
import KubeModels

/// Kubernetes RBAC for service-account requests, evaluated against the Roles, ClusterRoles and
/// bindings in the store, the way the apiserver's RBAC authorizer does: a request is allowed when
/// any rule of any role bound to the user (or one of its groups) matches its API group, resource
/// (`resource/subresource` for subresources), verb and, when the rule lists them, the object name.
/// There are no deny rules; everything not allowed is Forbidden.
enum RBACAuthorizer {
    struct Attributes: Sendable {
        var verb: String
        var group: String
        var resource: String
        var subresource: String?
        var namespace: String?
        var name: String?
    }

    /// Nil when allowed; otherwise the apiserver's Forbidden answer.
    static func check(_ user: RequestUser, _ request: Attributes, store: ClusterStore) async -> APIError? {
        guard case .serviceAccount = user else { return nil }
        if await allowed(user, request, store: store) { return nil }
        let resource = request.subresource.map { "\(request.resource)/\($0)" } ?? request.resource
        let scope = request.namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        let detail = "User \"\(user)\" cannot \(request.verb) resource \"\(resource)\" in API group \"\(request.group)\" \(scope)"
        return APIError(.forbidden(resource: request.resource, group: request.group, name: request.name ?? "", detail: detail))
    }

    static func allowed(_ user: RequestUser, _ request: Attributes, store: ClusterStore) async -> Bool {
        for rules in await boundRules(user, namespace: request.namespace, store: store) {
            if rules.contains(where: { matches($0, request) }) { return true }
        }
        return false
    }

    /// The rule lists of every role bound to the user: cluster-wide bindings, plus the bindings in
    /// the request's namespace.
    static func boundRules(_ user: RequestUser, namespace: String?, store: ClusterStore) async -> [[JSONValue]] {
        let rbac = "rbac.authorization.k8s.io"
        guard let clusterRoles = await store.type(group: rbac, resource: "clusterroles"),
            let clusterBindings = await store.type(group: rbac, resource: "clusterrolebindings"),
            let roles = await store.type(group: rbac, resource: "roles"),
            let bindings = await store.type(group: rbac, resource: "rolebindings")
        else { return [] }
        var result: [[JSONValue]] = []
        for binding in ((try? await store.list(clusterBindings, namespace: nil))?.items ?? []) where binds(binding, user) {
            guard binding[path: ["roleRef", "kind"]] == "ClusterRole", let role = binding[path: ["roleRef", "name"]]?.stringValue else { continue }
            result.append(await store.find(clusterRoles, namespace: nil, name: role)?["rules"]?.arrayValue ?? [])
        }
        guard let namespace else { return result }
        for binding in ((try? await store.list(bindings, namespace: namespace))?.items ?? []) where binds(binding, user) {
            guard let role = binding[path: ["roleRef", "name"]]?.stringValue else { continue }
            switch binding[path: ["roleRef", "kind"]]?.stringValue {
            case "ClusterRole": result.append(await store.find(clusterRoles, namespace: nil, name: role)?["rules"]?.arrayValue ?? [])
            case "Role": result.append(await store.find(roles, namespace: namespace, name: role)?["rules"]?.arrayValue ?? [])
            default: continue
            }
        }
        return result
    }

    static func binds(_ binding: JSONValue, _ user: RequestUser) -> Bool {
        let bindingNamespace = binding[path: ["metadata", "namespace"]]?.stringValue
        return (binding["subjects"]?.arrayValue ?? []).contains { subject in
            switch subject["kind"]?.stringValue {
            case "ServiceAccount":
                // A RoleBinding's ServiceAccount subject without a namespace means its own namespace.
                let namespace = subject["namespace"]?.stringValue ?? bindingNamespace
                return "system:serviceaccount:\(namespace ?? ""):\(subject["name"]?.stringValue ?? "")" == user.description
            case "User": return subject["name"]?.stringValue == user.description
            case "Group": return subject["name"]?.stringValue.map(user.groups.contains) ?? false
            default: return false
            }
        }
    }

    static func matches(_ rule: JSONValue, _ request: Attributes) -> Bool {
        func list(_ key: String) -> [String] { rule[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        let resource = request.subresource.map { "\(request.resource)/\($0)" } ?? request.resource
        let verbs = list("verbs")
        let groups = list("apiGroups")
        let resources = list("resources")
        let names = list("resourceNames")
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        guard groups.contains("*") || groups.contains(request.group) else { return false }
        guard
            resources.contains("*") || resources.contains(resource)
                || (request.subresource != nil && resources.contains("*/\(request.subresource ?? "")"))
        else { return false }
        if names.isEmpty { return true }
        // A rule limited to names never allows requests without one (create, list, watch).
        guard let name = request.name else { return false }
        return names.contains(name)
    }
}
