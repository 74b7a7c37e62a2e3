package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	"k8s.io/client-go/rest"
	restfake "k8s.io/client-go/rest/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeTokenReviews is a clientset whose TokenReviews accept "good-token"
// (as system:serviceaccount:monitoring:grafana), reject any other token, and
// fail outright for "broken-token". It counts the reviews.
func fakeTokenReviews(reviews *atomic.Int32) *fake.Clientset {
	client := fake.NewClientset()
	client.PrependReactor("create", "tokenreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		reviews.Add(1)
		tr := action.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		switch tr.Spec.Token {
		case "good-token":
			tr.Status = authenticationv1.TokenReviewStatus{
				Authenticated: true,
				User:          authenticationv1.UserInfo{Username: "system:serviceaccount:monitoring:grafana", Groups: []string{"system:serviceaccounts"}},
			}
		case "broken-token":
			return true, nil, errors.New("the server is currently unable to handle the request")
		default:
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: false, Error: "invalid bearer token"}
		}
		return true, tr, nil
	})
	return client
}

// reviewClient hands the fake clientset's reactors to k8s.io/apiserver's
// webhook authenticator, which posts TokenReviews through RESTClient() (nil
// in the fake clientset) rather than TokenReviews().Create.
type reviewClient struct {
	authenticationv1client.AuthenticationV1Interface
	rest rest.Interface
}

func (c reviewClient) RESTClient() rest.Interface { return c.rest }

// reactorClient returns an authentication client whose TokenReview posts
// run client's reactor chain.
func reactorClient(client *fake.Clientset) authenticationv1client.AuthenticationV1Interface {
	respond := func(code int, obj any) (*http.Response, error) {
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": []string{"application/json"}}, Body: io.NopCloser(bytes.NewReader(b))}, nil
	}
	rc := &restfake.RESTClient{
		NegotiatedSerializer: scheme.Codecs.WithoutConversion(),
		GroupVersion:         authenticationv1.SchemeGroupVersion,
		VersionedAPIPath:     "/apis/authentication.k8s.io/v1",
		Client: restfake.CreateHTTPClient(func(req *http.Request) (*http.Response, error) {
			var tr authenticationv1.TokenReview
			if err := json.NewDecoder(req.Body).Decode(&tr); err != nil {
				return nil, err
			}
			obj, err := client.Invokes(k8stesting.NewRootCreateAction(authenticationv1.SchemeGroupVersion.WithResource("tokenreviews"), &tr), nil)
			if err != nil {
				return respond(http.StatusServiceUnavailable, metav1.Status{
					TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
					Status:   metav1.StatusFailure, Code: http.StatusServiceUnavailable, Reason: metav1.StatusReasonServiceUnavailable, Message: err.Error(),
				})
			}
			return respond(http.StatusCreated, obj)
		}),
	}
	return reviewClient{AuthenticationV1Interface: client.AuthenticationV1(), rest: rc}
}

// fastAuthenticator is NewTokenReviewAuthenticator without retry delays, so
// failing reviews do not slow the tests down.
func fastAuthenticator(t *testing.T, client *fake.Clientset) authenticator.Request {
	t.Helper()
	a, err := newTokenReviewAuthenticator(reactorClient(client), time.Minute, time.Second, wait.Backoff{Duration: time.Millisecond, Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthentication(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hpa_engine_up 1\n")) })
	tests := []struct {
		name        string
		method      string
		target      string
		token       string
		header      string // a raw Authorization header, when not a bearer token
		wantCode    int
		wantReviews int32
	}{
		{name: "no token", method: http.MethodGet, target: "/api/v1/recommendations", wantCode: 401},
		{name: "rejected token", method: http.MethodGet, target: "/api/v1/recommendations", token: "stolen-token", wantCode: 401, wantReviews: 1},
		{name: "review fails", method: http.MethodGet, target: "/api/v1/recommendations", token: "broken-token", wantCode: 401, wantReviews: 1},
		{name: "not a bearer token", method: http.MethodGet, target: "/api/v1/recommendations", header: "Basic Z29vZDp0b2tlbg==", wantCode: 401},
		{name: "empty bearer token", method: http.MethodGet, target: "/api/v1/recommendations", header: "Bearer ", wantCode: 401},
		{name: "accepted token lists", method: http.MethodGet, target: "/api/v1/recommendations", token: "good-token", wantCode: 200, wantReviews: 1},
		{name: "accepted token gets", method: http.MethodGet, target: "/api/v1/recommendations/team-a/HorizontalPodAutoscaler/web", token: "good-token", wantCode: 200, wantReviews: 1},
		{name: "accepted token recommends", method: http.MethodPost, target: "/api/v1/recommend", token: "good-token", wantCode: 200, wantReviews: 1},
		{name: "recommend without token", method: http.MethodPost, target: "/api/v1/recommend", wantCode: 401},
		{name: "openapi needs a token", method: http.MethodGet, target: "/api/v1/openapi.json", wantCode: 401},
		{name: "healthz is open", method: http.MethodGet, target: "/healthz", wantCode: 200},
		{name: "readyz is open", method: http.MethodGet, target: "/readyz", wantCode: 200},
		{name: "metrics are open", method: http.MethodGet, target: "/metrics", wantCode: 200},
		{name: "open paths never review a token", method: http.MethodGet, target: "/healthz", token: "stolen-token", wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reviews atomic.Int32
			h := newTestHandler(t, Config{Auth: true}, Deps{Authenticator: fastAuthenticator(t, fakeTokenReviews(&reviews)), Metrics: metrics})
			header := http.Header{}
			switch {
			case tt.header != "":
				header.Set("Authorization", tt.header)
			case tt.token != "":
				header.Set("Authorization", "Bearer "+tt.token)
			}
			var body []byte
			var ct string
			if tt.method == http.MethodPost {
				body, ct = readInput(t, "scale-up"), "application/json"
			}
			rec := do(h, tt.method, tt.target, ct, body, header)
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if rec.Code == http.StatusUnauthorized {
				if got := rec.Header().Get("WWW-Authenticate"); got == "" {
					t.Error("401 without WWW-Authenticate")
				}
				checkGolden(t, "unauthorized", rec.Body.Bytes())
			}
			if got := reviews.Load(); got != tt.wantReviews {
				t.Errorf("%d TokenReviews, want %d", got, tt.wantReviews)
			}
		})
	}
}

// TestAuthenticationFromClient builds the authenticator the way the
// controller does (Config.Auth with a TokenReview client) and checks that
// answers are cached for the TTL.
func TestAuthenticationFromClient(t *testing.T) {
	var reviews atomic.Int32
	client := fakeTokenReviews(&reviews)
	h, err := New(Config{Auth: true, AuthCacheTTL: time.Minute, AuthTimeout: time.Second}, Deps{Store: fixtureStore(t), Clock: fixedClock, TokenReview: reactorClient(client)})
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{"Authorization": []string{"Bearer good-token"}}
	for i := range 3 {
		rec := do(h, http.MethodGet, "/api/v1/recommendations?namespace=team-b", "", nil, header)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d: %s", i, rec.Code, rec.Body)
		}
	}
	if got := reviews.Load(); got != 1 {
		t.Errorf("%d TokenReviews for 3 requests with one token, want 1 (cached)", got)
	}
	rec := do(h, http.MethodGet, "/api/v1/recommendations", "", nil, http.Header{"Authorization": []string{"Bearer other-token"}})
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("rejected token: status %d, want 401", rec.Code)
	}
	if got := reviews.Load(); got != 2 {
		t.Errorf("%d TokenReviews after a second token, want 2", got)
	}
}

// TestAuthenticationContext checks what handlers behind the filter see: the
// reviewed user in the context, and no token in the headers.
func TestAuthenticationContext(t *testing.T) {
	var reviews atomic.Int32
	var user, authorization string
	spy := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, ok := request.UserFrom(req.Context()); ok {
			user = u.GetName()
		}
		authorization = req.Header.Get("Authorization")
	})
	h := withAuthentication(fastAuthenticator(t, fakeTokenReviews(&reviews)))(spy)
	rec := do(h, http.MethodGet, "/api/v1/recommendations", "", nil, http.Header{"Authorization": []string{"Bearer good-token"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if user != "system:serviceaccount:monitoring:grafana" {
		t.Errorf("user %q, want the reviewed service account", user)
	}
	if authorization != "" {
		t.Errorf("handler saw Authorization %q, want it stripped", authorization)
	}
}
