import Foundation
import KubeModels
import Testing

@testable import Simulator

/// RBAC for service-account requests, through the API handler as the server calls it.
@Suite struct RBACTests {
    let sa = RequestUser.serviceAccount(namespace: "ops", name: "bot")

    func send(_ handler: APIHandler, _ method: String, _ path: String, as user: RequestUser, query: String = "", body: JSONValue? = nil) async -> (
        Int, JSONValue?
    ) {
        var request = APIRequest(
            method: method, path: path, query: APIRequest.parseQuery(query), headers: ["content-type": "application/json"],
            body: body?.encoded() ?? Data())
        request.user = user
        let response = await handler.handle(request)
        return (response.status, try? JSONValue(parsing: await response.collect()))
    }

    func create(_ handler: APIHandler, _ path: String, _ object: JSONValue) async throws {
        let (status, body) = await send(handler, "POST", path, as: .admin, body: object)
        try #require(status == 201, "\(body?.jsonText ?? "")")
    }

    func cluster(roleRules: JSONValue, clusterRules: JSONValue = [], bindingSubject: JSONValue? = nil) async throws -> SimulatedCluster {
        let cluster = await SimulatedCluster()
        let handler = cluster.handler
        for name in ["ops", "apps"] {
            try await create(handler, "/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
        }
        let subject = bindingSubject ?? ["kind": "ServiceAccount", "name": "bot", "namespace": "ops"]
        try await create(
            handler, "/apis/rbac.authorization.k8s.io/v1/namespaces/ops/roles",
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": ["name": "r", "namespace": "ops"], "rules": roleRules,
            ])
        try await create(
            handler, "/apis/rbac.authorization.k8s.io/v1/namespaces/ops/rolebindings",
            [
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding", "metadata": ["name": "r", "namespace": "ops"],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"], "subjects": [subject],
            ])
        try await create(
            handler, "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": ["name": "c"], "rules": clusterRules,
            ])
        try await create(
            handler, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            [
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding", "metadata": ["name": "c"],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "c"], "subjects": [subject],
            ])
        return cluster
    }

    @Test func aRoleAllowsItsVerbsInItsNamespaceOnly() async throws {
        let cluster = try await cluster(roleRules: [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "create"]]])
        let handler = cluster.handler
        let (created, _) = await send(
            handler, "POST", "/api/v1/namespaces/ops/configmaps", as: sa,
            body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a"]])
        #expect(created == 201)
        #expect(await send(handler, "GET", "/api/v1/namespaces/ops/configmaps/a", as: sa).0 == 200)
        #expect(await send(handler, "GET", "/api/v1/namespaces/ops/configmaps", as: sa).0 == 200)
        // Not granted: another verb, another namespace, watch, another resource.
        let (deleted, status) = await send(handler, "DELETE", "/api/v1/namespaces/ops/configmaps/a", as: sa)
        #expect(deleted == 403)
        #expect(
            status?["message"]?.stringValue
                == #"configmaps "a" is forbidden: User "system:serviceaccount:ops:bot" cannot delete resource "configmaps" in API group "" in the namespace "ops""#
        )
        #expect(await send(handler, "GET", "/api/v1/namespaces/apps/configmaps", as: sa).0 == 403)
        #expect(await send(handler, "GET", "/api/v1/namespaces/ops/configmaps", as: sa, query: "watch=true").0 == 403)
        #expect(await send(handler, "GET", "/api/v1/namespaces/ops/secrets", as: sa).0 == 403)
        // The admin is never refused.
        #expect(await send(handler, "DELETE", "/api/v1/namespaces/ops/configmaps/a", as: .admin).0 == 200)
    }

    @Test func resourceNamesLimitNamedRequestsAndNeverAllowCreateOrList() async throws {
        let cluster = try await cluster(roleRules: [
            ["apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["status"], "verbs": ["get", "patch", "create", "list"]]
        ])
        let handler = cluster.handler
        try await create(handler, "/api/v1/namespaces/ops/configmaps", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "status"]])
        try await create(handler, "/api/v1/namespaces/ops/configmaps", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "other"]])
        #expect(await send(handler, "GET", "/api/v1/namespaces/ops/configmaps/status", as: sa).0 == 200)
        #expect(await send(handler, "GET", "/api/v1/namespaces/ops/configmaps/other", as: sa).0 == 403)
        #expect(await send(handler, "GET", "/api/v1/namespaces/ops/configmaps", as: sa).0 == 403)
        #expect(
            await send(
                handler, "POST", "/api/v1/namespaces/ops/configmaps", as: sa,
                body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "status2"]]
            ).0 == 403)
    }

    @Test func clusterScopedResourcesAndSubresourcesNeedTheirOwnRules() async throws {
        let cluster = try await cluster(
            roleRules: [["apiGroups": [""], "resources": ["pods"], "verbs": ["get"]]],
            clusterRules: [["apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["get"]]])
        let handler = cluster.handler
        let (status, body) = await send(handler, "GET", "/api/v1/persistentvolumes/pv-1", as: sa)
        #expect(status == 404, "allowed, then not found: \(body?.jsonText ?? "")")
        let (listed, refusal) = await send(handler, "GET", "/api/v1/persistentvolumes", as: sa)
        #expect(listed == 403)
        #expect(refusal?["message"]?.stringValue?.hasSuffix("at the cluster scope") == true)
        // pods/log is its own resource for RBAC.
        #expect(await send(handler, "GET", "/api/v1/namespaces/ops/pods/p/log", as: sa).0 == 403)
    }

    @Test func aRoleBindingSubjectWithoutNamespaceMeansTheBindingsNamespace() async throws {
        let cluster = try await cluster(
            roleRules: [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]]],
            bindingSubject: ["kind": "ServiceAccount", "name": "bot"])
        #expect(await send(cluster.handler, "GET", "/api/v1/namespaces/ops/configmaps", as: sa).0 == 200)
        #expect(await send(cluster.handler, "GET", "/api/v1/namespaces/ops/configmaps", as: .serviceAccount(namespace: "apps", name: "bot")).0 == 403)
    }

    @Test func groupSubjectsAndWildcards() async throws {
        let cluster = try await cluster(
            roleRules: [["apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]]],
            bindingSubject: ["kind": "Group", "name": "system:serviceaccounts:ops", "apiGroup": "rbac.authorization.k8s.io"])
        #expect(await send(cluster.handler, "GET", "/apis/apps/v1/namespaces/ops/deployments", as: sa).0 == 200)
        #expect(await send(cluster.handler, "GET", "/apis/apps/v1/namespaces/ops/deployments", as: .serviceAccount(namespace: "apps", name: "x")).0 == 403)
    }

    @Test func discoveryNeedsNoRules() async throws {
        let cluster = try await cluster(roleRules: [])
        #expect(await send(cluster.handler, "GET", "/api/v1", as: sa).0 == 200)
        #expect(await send(cluster.handler, "GET", "/version", as: sa).0 == 200)
    }

    @Test func theRequestLogNamesTheUser() async throws {
        let cluster = try await cluster(roleRules: [])
        _ = await send(cluster.handler, "GET", "/api/v1/namespaces/ops/configmaps", as: sa)
        #expect(await cluster.log.entries.last?.user == "system:serviceaccount:ops:bot")
        #expect(await cluster.log.entries.last?.status == 403)
    }
}
