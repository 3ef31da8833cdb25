import Foundation
import Testing

@testable import AWS

@Suite("AWSError")
struct AWSErrorTests {
    static let noSuchKey = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Error>
          <Code>NoSuchKey</Code>
          <Message>The specified key
             does not exist.</Message>
          <Key>cluster-a/backupstore/volumes/ab/cd/pvc-1/volume.cfg</Key>
          <RequestId>4442587FB7D0A2F9</RequestId>
          <HostId>9+4Ttq3Hp1Y2X3XxHbTbG6bJ4u9lFx8Kx0qS1eGZ5dQ=</HostId>
        </Error>
        """

    @Test("S3 XML error: code, condensed message, object, hint; request id kept apart")
    func s3NoSuchKey() {
        let error = AWSError.s3Response(
            status: 404,
            body: Data(Self.noSuchKey.utf8),
            bucket: "backups",
            key: "cluster-a/backupstore/volumes/ab/cd/pvc-1/volume.cfg"
        )
        #expect(error.code == .noSuchKey)
        #expect(error.requestID == "4442587FB7D0A2F9")
        #expect(error.httpStatus == 404)
        #expect(
            error.description == """
                s3://backups/cluster-a/backupstore/volumes/ab/cd/pvc-1/volume.cfg: NoSuchKey: The specified key does not exist.
                  hint: the object is not there: check the path in the backup target URL and that the backup has completed
                """
        )
        #expect(!error.description.contains("4442587FB7D0A2F9"))
        #expect(!error.description.contains("HostId") && !error.description.contains("9+4Ttq3"))
        #expect(error.debugDescription.contains("request id 4442587FB7D0A2F9"))
        #expect(error.debugDescription.contains("HTTP 404"))
    }

    @Test(
        "known S3 codes are matchable and carry a hint",
        arguments: [
            ("NoSuchBucket", AWSError.Code.noSuchBucket, "bucket name"),
            ("AccessDenied", .accessDenied, "s3:GetObject"),
            ("InvalidAccessKeyId", .invalidAccessKeyId, "AWS_ACCESS_KEY_ID"),
            ("SignatureDoesNotMatch", .signatureDoesNotMatch, "clock skew"),
            ("RequestTimeTooSkewed", .requestTimeTooSkewed, "NTP"),
            ("ExpiredToken", .expiredToken, "AWS_SESSION_TOKEN"),
            ("AuthorizationHeaderMalformed", .authorizationHeaderMalformed, "region"),
            ("SlowDown", .slowDown, "retry later"),
        ] as [(String, AWSError.Code, String)]
    )
    func knownS3Codes(code: String, expected: AWSError.Code, hint: String) {
        let body = "<Error><Code>\(code)</Code><Message>msg</Message><RequestId>RID</RequestId></Error>"
        let error = AWSError.s3Response(status: 403, body: Data(body.utf8), bucket: "backups")
        #expect(error.code == expected)
        #expect(error.subject == "s3://backups")
        #expect(error.hint?.contains(hint) == true, "\(error)")
        #expect(!error.description.contains("RID"))
    }

    @Test("a redirect names the endpoint and region to use")
    func permanentRedirect() {
        let body = """
            <Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message>
            <Endpoint>backups.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>backups</Bucket><RequestId>X</RequestId></Error>
            """
        let error = AWSError.s3Response(status: 301, body: Data(body.utf8), bucket: "backups")
        #expect(error.code == .permanentRedirect)
        #expect(error.description.contains("(endpoint backups.s3.eu-west-1.amazonaws.com)"))
        #expect(error.hint?.contains("s3://bucket@region/path/") == true)
    }

    @Test("HEAD answers have no body: the status gives the code")
    func emptyBody() {
        let missing = AWSError.s3Response(status: 404, body: Data(), bucket: "b", key: "k", requestID: "HDR-ID")
        #expect(missing.code == .notFound)
        #expect(missing.description.hasPrefix("s3://b/k: HTTP 404 Not Found"))
        #expect(missing.requestID == "HDR-ID")
        #expect(!missing.description.contains("HDR-ID"))
        let forbidden = AWSError.s3Response(status: 403, body: Data(), bucket: "b", key: "k")
        #expect(forbidden.code == .forbidden)
        #expect(forbidden.hint?.contains("s3:GetObject") == true)
    }

    @Test("a proxy's HTML page is condensed to text")
    func htmlBody() {
        let html = "<html><head><title>502 Bad Gateway</title></head><body>\n<center><h1>502 Bad Gateway</h1></center>\n</body></html>"
        let error = AWSError.s3Response(status: 502, body: Data(html.utf8), bucket: "b")
        #expect(error.code == AWSError.Code("HTTP502"))
        #expect(error.description == "s3://b: HTTP 502 Bad Gateway: 502 Bad Gateway 502 Bad Gateway")
    }

    @Test("SSM JSON 1.1 error: namespace dropped from __type, message kept, subject named")
    func ssmParameterNotFound() {
        let body = #"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"Parameter /longhorn-dr/prod/kubeconfig not found."}"#
        let error = AWSError.jsonResponse(
            status: 400,
            body: Data(body.utf8),
            subject: "SSM parameter /longhorn-dr/prod/kubeconfig",
            requestID: "5a5d1d1c-0000"
        )
        #expect(error.code == .parameterNotFound)
        #expect(
            error.description.hasPrefix(
                "SSM parameter /longhorn-dr/prod/kubeconfig: ParameterNotFound: Parameter /longhorn-dr/prod/kubeconfig not found."
            )
        )
        #expect(error.hint?.contains("describe-parameters") == true)
        #expect(error.requestID == "5a5d1d1c-0000")
        #expect(!error.description.contains("5a5d1d1c"))
    }

    @Test(
        "JSON error variants",
        arguments: [
            (
                #"{"__type":"AccessDeniedException","Message":"User is not authorized"}"#, nil, AWSError.Code.accessDeniedException,
                "AccessDeniedException: User is not authorized"
            ),
            (
                #"{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}"#, nil,
                .unrecognizedClientException, "UnrecognizedClientException: The security token"
            ),
            (
                #"{"__type":"InvalidSignatureException","message":"Signature expired"}"#, nil, .invalidSignatureException,
                "InvalidSignatureException: Signature expired"
            ),
            (
                #"{"message":"throttled"}"#, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/", .throttlingException,
                "ThrottlingException: throttled"
            ),
        ] as [(String, String?, AWSError.Code, String)]
    )
    func jsonVariants(body: String, header: String?, code: AWSError.Code, detail: String) {
        let error = AWSError.jsonResponse(status: 400, body: Data(body.utf8), subject: "SSM parameter /p", errorTypeHeader: header)
        #expect(error.code == code)
        #expect(error.detail.hasPrefix(detail), "\(error.detail)")
        #expect(error.hint != nil)
    }

    @Test("a JSON answer without a type falls back to the status")
    func jsonWithoutType() {
        let error = AWSError.jsonResponse(status: 500, body: Data("oops".utf8), subject: nil)
        #expect(error.code == AWSError.Code("HTTP500"))
        #expect(error.description == "HTTP 500 Internal Server Error: oops")
    }

    @Test("unknown codes still match by name")
    func unknownCode() {
        let error = AWSError.s3Response(status: 409, body: Data("<Error><Code>BucketNotEmpty</Code></Error>".utf8), bucket: "b")
        #expect(error.code == AWSError.Code("BucketNotEmpty"))
        #expect(error.description == "s3://b: BucketNotEmpty")
        #expect(error.hint == nil)
    }

    @Test("long messages are capped")
    func longMessage() {
        let long = String(repeating: "word ", count: 200)
        let error = AWSError.s3Response(status: 400, body: Data("<Error><Code>X</Code><Message>\(long)</Message></Error>".utf8), bucket: "b")
        #expect(error.detail.count < 320)
        #expect(error.detail.hasSuffix("…"))
    }
}

@Suite("SSMRequest")
struct SSMRequestTests {
    @Test("GetParameter: POST / with the JSON 1.1 target and body")
    func getParameter() throws {
        let request = try SSMRequest.getParameter(name: "/longhorn-dr/prod/kubeconfig", region: "eu-west-1")
        #expect(request.method == "POST")
        #expect(request.url?.absoluteString == "https://ssm.eu-west-1.amazonaws.com/")
        #expect(request.firstHeader(named: "x-amz-target") == "AmazonSSM.GetParameter")
        #expect(request.firstHeader(named: "content-type") == "application/x-amz-json-1.1")
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"Name":"/longhorn-dr/prod/kubeconfig","WithDecryption":true}"#)
        let plain = try SSMRequest.getParameter(name: "p", withDecryption: false, region: "cn-north-1")
        #expect(String(decoding: plain.body, as: UTF8.self) == #"{"Name":"p","WithDecryption":false}"#)
        #expect(plain.host == "ssm.cn-north-1.amazonaws.com.cn")
    }

    @Test("GetParameter signs as ssm with the target header in the signature")
    func signs() throws {
        let request = try SSMRequest.getParameter(name: "/p", region: "us-east-1")
        let signer = SigV4Signer(credentials: SuiteFacts.credentials, region: "us-east-1", service: SSMRequest.service)
        let result = signer.sign(request, date: SuiteFacts.date)
        #expect(result.signedHeaders == "content-type;host;x-amz-date;x-amz-target")
        #expect(result.payloadHash == SigV4Signer.sha256Hex(request.body))
    }

    @Test("an empty name is refused before any call")
    func emptyName() {
        let error = #expect(throws: AWSError.self) { try SSMRequest.getParameter(name: " ", region: "us-east-1") }
        #expect(error?.code == .invalidRequest)
    }

    @Test("the answer's Parameter.Value, Version and Type are read; the value stays out of descriptions")
    func parseResponse() throws {
        let body = """
            {"Parameter":{"ARN":"arn:aws:ssm:eu-west-1:123456789012:parameter/longhorn-dr/prod/kubeconfig",
            "DataType":"text","LastModifiedDate":1.763632800123E9,"Name":"/longhorn-dr/prod/kubeconfig",
            "Type":"SecureString","Value":"apiVersion: v1\\nkind: Config\\nusers: [{name: admin, user: {token: s3cr3t}}]\\n","Version":7}}
            """
        let parameter = try SSMRequest.parseGetParameterResponse(Data(body.utf8))
        #expect(parameter.name == "/longhorn-dr/prod/kubeconfig")
        #expect(parameter.type == "SecureString")
        #expect(parameter.version == 7)
        #expect(parameter.value.hasPrefix("apiVersion: v1\nkind: Config\n"))
        #expect(parameter.arn?.hasSuffix("parameter/longhorn-dr/prod/kubeconfig") == true)
        var dumped = ""
        dump(parameter, to: &dumped)
        for text in [parameter.description, String(reflecting: parameter), dumped] {
            #expect(!text.contains("s3cr3t"), "value leaked: \(text)")
        }
    }

    @Test("a body without the fields is a malformed response naming what is missing")
    func malformedResponse() {
        let error = #expect(throws: AWSError.self) {
            try SSMRequest.parseGetParameterResponse(Data(#"{"Parameter":{"Name":"/p","Type":"String"}}"#.utf8), name: "/p")
        }
        #expect(error?.code == .malformedResponse)
        #expect(error?.description.contains("missing Value") == true, "\(String(describing: error))")
        #expect(error?.subject == "SSM parameter /p")
    }
}
