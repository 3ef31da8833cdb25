/// Runs what pods run: the kubelet stand-in that answers logs and exec.
public protocol PodRuntime: Sendable {
    /// `GET .../pods/{name}/log`.
    func logs(_ request: APIRequest, namespace: String, pod: String) async throws(APIError) -> APIResponse
}
