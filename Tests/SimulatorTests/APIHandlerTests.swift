import Foundation
import KubeModels
import Testing

@testable import Simulator

/// The HTTP surface kubectl relies on, driven in-process through the handler.
@Suite struct APIHandlerTests {
    func send(_ handler: APIHandler, _ method: String, _ path: String, query: String = "", headers: [String: String] = [:], body: JSONValue? = nil) async -> (
        Int, JSONValue?, [(String, String)]
    ) {
        let response = await handler.handle(
            APIRequest(method: method, path: path, query: APIRequest.parseQuery(query), headers: headers, body: body?.encoded() ?? Data()))
        let data = await response.collect()
        return (response.status, try? JSONValue(parsing: data), response.headers)
    }

    @Test func discoveryInBothShapes() async {
        let cluster = await SimulatedCluster()
        let (status, aggregated, headers) = await send(
            cluster.handler, "GET", "/apis", headers: ["Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"])
        #expect(status == 200)
        #expect(headers.contains { $0.0 == "Content-Type" && $0.1.contains("as=APIGroupDiscoveryList") })
        #expect(aggregated?["items"]?.arrayValue?.contains { $0[path: ["metadata", "name"]] == "apps" } == true)
        let (_, legacy, _) = await send(cluster.handler, "GET", "/api/v1")
        let pods = legacy?["resources"]?.arrayValue?.first { $0["name"] == "pods" }
        #expect(pods?["shortNames"] == ["po"])
        #expect(legacy?["resources"]?.arrayValue?.contains { $0["name"] == "pods/exec" } == true)
    }

    @Test func tablesForKubectlGet() async throws {
        let cluster = await SimulatedCluster()
        let (_, table, _) = await send(
            cluster.handler, "GET", "/api/v1/namespaces", query: "limit=500",
            headers: ["Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"])
        #expect(table?["kind"] == "Table")
        #expect(table?["columnDefinitions"]?.arrayValue?.map { $0["name"] } == ["Name", "Status", "Age"])
        #expect(table?["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.count == 3)
    }

    @Test func strictFieldValidationAndWarnings() async throws {
        let cluster = await SimulatedCluster()
        let body: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "u"], "data": [:], "bogus": 1]
        let (strict, error, _) = await send(cluster.handler, "POST", "/api/v1/namespaces/default/configmaps", query: "fieldValidation=Strict", body: body)
        #expect(strict == 400)
        #expect(error?["message"]?.stringValue?.contains("strict decoding error: unknown field \"bogus\"") == true)
        let (warn, created, headers) = await send(cluster.handler, "POST", "/api/v1/namespaces/default/configmaps", query: "fieldValidation=Warn", body: body)
        #expect(warn == 201 && created?["bogus"] == nil)
        #expect(headers.contains { $0.0 == "Warning" && $0.1.contains("unknown field") })
    }

    @Test func patchTypes() async throws {
        let cluster = await SimulatedCluster()
        _ = await send(cluster.handler, "POST", "/api/v1/namespaces/default/configmaps", body: ["metadata": ["name": "p"], "data": ["a": "1"]])
        let (jsonStatus, _, _) = await send(
            cluster.handler, "PATCH", "/api/v1/namespaces/default/configmaps/p",
            headers: ["Content-Type": "application/json-patch+json"],
            body: [["op": "test", "path": "/data/a", "value": "no"], ["op": "remove", "path": "/data/a"]])
        #expect(jsonStatus == 422)
        let (_, unchanged, _) = await send(cluster.handler, "GET", "/api/v1/namespaces/default/configmaps/p")
        #expect(unchanged?["data"] == ["a": "1"])
        let (unknown, _, _) = await send(
            cluster.handler, "PATCH", "/api/v1/namespaces/default/configmaps/p", headers: ["Content-Type": "text/plain"], body: [:])
        #expect(unknown == 415)
    }

    @Test func dryRunPersistsNothing() async throws {
        let cluster = await SimulatedCluster()
        let before = await cluster.store.currentRevision
        let (status, _, _) = await send(
            cluster.handler, "POST", "/api/v1/namespaces/default/configmaps", query: "dryRun=All", body: ["metadata": ["name": "dry"]])
        #expect(status == 201)
        #expect(await cluster.store.currentRevision == before)
        let (missing, _, _) = await send(cluster.handler, "GET", "/api/v1/namespaces/default/configmaps/dry")
        #expect(missing == 404)
    }

    @Test func errorsAreStatusObjects() async throws {
        let cluster = await SimulatedCluster()
        let (status, body, _) = await send(cluster.handler, "GET", "/api/v1/frobs")
        #expect(status == 404 && body?["kind"] == "Status" && body?["reason"] == "NotFound")
        let (protobuf, _, _) = await send(
            cluster.handler, "POST", "/api/v1/namespaces", headers: ["Content-Type": "application/vnd.kubernetes.protobuf"], body: [:])
        #expect(protobuf == 415)
    }

    @Test func injectedFaultsFireThenClear() async throws {
        let cluster = await SimulatedCluster()
        await cluster.faults.fail(verb: "get", resource: "namespaces", status: 503, count: 1)
        let (first, body, _) = await send(cluster.handler, "GET", "/api/v1/namespaces/default")
        #expect(first == 503 && body?["kind"] == "Status")
        let (second, _, _) = await send(cluster.handler, "GET", "/api/v1/namespaces/default")
        #expect(second == 200)
    }
}
