package adapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/klog/v2"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	cminstall "k8s.io/metrics/pkg/apis/custom_metrics/install"
	cmv1beta1 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta1"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	"k8s.io/metrics/pkg/apis/external_metrics"
	eminstall "k8s.io/metrics/pkg/apis/external_metrics/install"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
)

// Query parameters of the metrics APIs.
const (
	paramLabelSelector       = "labelSelector"
	paramMetricLabelSelector = "metricLabelSelector"
)

// Kinds the discovery documents advertise.
const (
	kindMetricValueList         = "MetricValueList"
	kindExternalMetricValueList = "ExternalMetricValueList"
)

// unversioned is the group version of metav1's discovery and Status types.
var unversioned = schema.GroupVersion{Version: "v1"}

// customVersions lists the custom metrics API versions we serve, preferred
// first: discovery-based clients (the HPA's) pick the first they know.
var customVersions = []schema.GroupVersion{cmv1beta2.SchemeGroupVersion, cmv1beta1.SchemeGroupVersion}

// newCodecs builds the serializers of every type the edge writes, from the
// types' own schemes, so JSON and protobuf come from apimachinery.
func newCodecs() runtime.NegotiatedSerializer {
	scheme := runtime.NewScheme()
	cminstall.Install(scheme)
	eminstall.Install(scheme)
	metav1.AddToGroupVersion(scheme, unversioned)
	return serializer.NewCodecFactory(scheme).WithoutConversion()
}

// apiHandler serves the discovery documents and the metrics API paths.
type apiHandler struct {
	custom   CustomMetricsProvider
	external ExternalMetricsProvider
	codecs   runtime.NegotiatedSerializer
	// timeout bounds each provider call when positive.
	timeout time.Duration
}

// providerContext returns the context a provider call runs under.
func (h *apiHandler) providerContext(r *http.Request) (context.Context, context.CancelFunc) {
	if h.timeout > 0 {
		return context.WithTimeout(r.Context(), h.timeout)
	}
	return context.WithCancel(r.Context())
}

// NewAPIHandler returns the unauthenticated router of the custom and external
// metrics APIs, with discovery at /apis. A nil provider leaves its API group
// out entirely. Server wraps it with authentication and authorization; the
// recommender and tests may use it bare.
func NewAPIHandler(custom CustomMetricsProvider, external ExternalMetricsProvider) http.Handler {
	r := chi.NewRouter()
	newAPIHandler(custom, external).mount(r)
	return r
}

func newAPIHandler(custom CustomMetricsProvider, external ExternalMetricsProvider) *apiHandler {
	return &apiHandler{custom: custom, external: external, codecs: newCodecs()}
}

// mount registers the API routes and the Status answers for unknown paths
// and methods.
func (h *apiHandler) mount(r chi.Router) {
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		h.writeError(w, req, unversioned, failure(http.StatusNotFound, metav1.StatusReasonNotFound,
			fmt.Sprintf("path %q is not served", req.URL.Path)))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		h.writeError(w, req, unversioned, failure(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed: the metrics APIs only serve get", req.Method)))
	})
	r.Get("/apis", h.groupList)
	if h.custom != nil {
		r.Get("/apis/"+custom_metrics.GroupName, h.group(h.customGroup()))
		for _, gv := range customVersions {
			r.Route("/apis/"+gv.String(), func(r chi.Router) {
				r.Get("/", h.customResources(gv))
				r.Get("/namespaces/{ns}/metrics/{metric}", h.customMetric(gv, namespaceMetricRoute))
				r.Get("/namespaces/{ns}/{resource}/{name}/{metric}", h.customMetric(gv, namespacedRoute))
				r.Get("/{resource}/{name}/{metric}", h.customMetric(gv, rootScopedRoute))
			})
		}
	}
	if h.external != nil {
		gv := emv1beta1.SchemeGroupVersion
		r.Get("/apis/"+external_metrics.GroupName, h.group(h.externalGroup()))
		r.Route("/apis/"+gv.String(), func(r chi.Router) {
			r.Get("/", h.externalResources)
			r.Get("/namespaces/{ns}/{metric}", h.externalMetric)
		})
	}
}

func (h *apiHandler) customGroup() metav1.APIGroup {
	g := metav1.APIGroup{Name: custom_metrics.GroupName}
	for _, gv := range customVersions {
		g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version})
	}
	g.PreferredVersion = g.Versions[0]
	return g
}

func (h *apiHandler) externalGroup() metav1.APIGroup {
	v := metav1.GroupVersionForDiscovery{GroupVersion: emv1beta1.SchemeGroupVersion.String(), Version: emv1beta1.SchemeGroupVersion.Version}
	return metav1.APIGroup{Name: external_metrics.GroupName, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v}
}

func (h *apiHandler) groupList(w http.ResponseWriter, r *http.Request) {
	list := &metav1.APIGroupList{Groups: []metav1.APIGroup{}}
	if h.custom != nil {
		list.Groups = append(list.Groups, h.customGroup())
	}
	if h.external != nil {
		list.Groups = append(list.Groups, h.externalGroup())
	}
	h.writeObject(w, r, unversioned, list)
}

func (h *apiHandler) group(g metav1.APIGroup) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.writeObject(w, r, unversioned, g.DeepCopy())
	}
}

func (h *apiHandler) customResources(gv schema.GroupVersion) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		list := &metav1.APIResourceList{GroupVersion: gv.String(), APIResources: []metav1.APIResource{}}
		seen := map[string]bool{}
		for _, info := range sortedCustom(h.custom.ListAllMetrics()) {
			name := info.String()
			if seen[name] {
				continue
			}
			seen[name] = true
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name:       name,
				Namespaced: info.Namespaced,
				Kind:       kindMetricValueList,
				Verbs:      metav1.Verbs{"get"},
			})
		}
		h.writeObject(w, r, unversioned, list)
	}
}

func (h *apiHandler) externalResources(w http.ResponseWriter, r *http.Request) {
	list := &metav1.APIResourceList{GroupVersion: emv1beta1.SchemeGroupVersion.String(), APIResources: []metav1.APIResource{}}
	seen := map[string]bool{}
	for _, info := range sortedExternal(h.external.ListAllExternalMetrics()) {
		if seen[info.Metric] {
			continue
		}
		seen[info.Metric] = true
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name:       info.Metric,
			Namespaced: true,
			Kind:       kindExternalMetricValueList,
			Verbs:      metav1.Verbs{"get"},
		})
	}
	h.writeObject(w, r, unversioned, list)
}

// customRoute tells which of the three path forms matched.
type customRoute int

const (
	namespacedRoute customRoute = iota
	rootScopedRoute
	namespaceMetricRoute
)

// customRequest is a parsed custom metrics request.
type customRequest struct {
	info           CustomMetricInfo
	object         types.NamespacedName // Name is "*" for a selector request
	selector       labels.Selector
	metricSelector labels.Selector
	// metricSelectorWire is echoed in the response's metric selector.
	metricSelectorWire *metav1.LabelSelector
}

// customParams are the raw (possibly percent-encoded) path parameters.
type customParams struct {
	namespace, resource, name, metric string
}

func (h *apiHandler) customMetric(gv schema.GroupVersion, route customRoute) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := customParams{
			namespace: chi.URLParam(r, "ns"),
			resource:  chi.URLParam(r, "resource"),
			name:      chi.URLParam(r, "name"),
			metric:    chi.URLParam(r, "metric"),
		}
		req, err := parseCustomRequest(route, p, r.URL.Query())
		if err != nil {
			h.writeError(w, r, gv, toStatusError(err, req.info.GroupResource, req.object.Name))
			return
		}
		ctx, cancel := h.providerContext(r)
		defer cancel()
		values, err := h.getCustom(ctx, req)
		if err != nil {
			h.writeError(w, r, gv, toStatusError(err, req.info.GroupResource, req.object.Name))
			return
		}
		var obj runtime.Object
		var items int
		if gv == cmv1beta1.SchemeGroupVersion {
			l := customV1beta1(values, req.info.Metric, req.metricSelectorWire)
			obj, items = l, len(l.Items)
		} else {
			l := customV1beta2(values, req.info.Metric, req.metricSelectorWire)
			obj, items = l, len(l.Items)
		}
		if req.object.Name != custom_metrics.AllObjects && items == 0 {
			// A by-name answer must hold exactly one item (the HPA's client
			// checks); a non-finite sample is missing data, not 0.
			err := fmt.Errorf("metric %q of %s %q: %w", req.info.Metric, req.info.GroupResource, req.object.Name, ErrNoData)
			h.writeError(w, r, gv, toStatusError(err, req.info.GroupResource, req.object.Name))
			return
		}
		h.writeObject(w, r, gv, obj)
	}
}

func (h *apiHandler) getCustom(ctx context.Context, req customRequest) ([]CustomMetricValue, error) {
	if req.object.Name == custom_metrics.AllObjects {
		return h.custom.GetMetricBySelector(ctx, req.object.Namespace, req.selector, req.info, req.metricSelector)
	}
	v, err := h.custom.GetMetricByName(ctx, req.object, req.info, req.metricSelector)
	if err != nil {
		return nil, err
	}
	return []CustomMetricValue{v}, nil
}

// parseCustomRequest validates the path parameters and query of a custom
// metrics request. It never panics: every malformed input is an error that
// wraps ErrBadRequest or ErrBadSelector.
func parseCustomRequest(route customRoute, p customParams, query url.Values) (customRequest, error) {
	var req customRequest
	metric, err := pathSegment("metric", p.metric)
	if err != nil {
		return req, err
	}
	req.info.Metric = metric
	switch route {
	case namespaceMetricRoute:
		ns, err := pathSegment("namespace", p.namespace)
		if err != nil {
			return req, err
		}
		// The metric of a namespace object: namespaces are cluster-scoped,
		// so this is the namespace named ns, described without a namespace.
		req.info.GroupResource = schema.GroupResource{Resource: "namespaces"}
		req.object = types.NamespacedName{Name: ns}
	case namespacedRoute, rootScopedRoute:
		resource, err := pathSegment("resource", p.resource)
		if err != nil {
			return req, err
		}
		name, err := objectName(p.name)
		if err != nil {
			return req, err
		}
		req.info.GroupResource = schema.ParseGroupResource(resource)
		if req.info.GroupResource.Resource == "" {
			return req, fmt.Errorf("resource %q: %w", resource, ErrBadRequest)
		}
		req.object.Name = name
		if route == namespacedRoute {
			ns, err := pathSegment("namespace", p.namespace)
			if err != nil {
				return req, err
			}
			req.object.Namespace = ns
			req.info.Namespaced = true
		}
	default:
		return req, fmt.Errorf("route %d: %w", route, ErrBadRequest)
	}
	if req.selector, _, err = parseSelector(paramLabelSelector, query.Get(paramLabelSelector)); err != nil {
		return req, err
	}
	if req.metricSelector, req.metricSelectorWire, err = parseSelector(paramMetricLabelSelector, query.Get(paramMetricLabelSelector)); err != nil {
		return req, err
	}
	return req, nil
}

// externalRequest is a parsed external metrics request.
type externalRequest struct {
	namespace      string
	info           ExternalMetricInfo
	metricSelector labels.Selector
}

func (h *apiHandler) externalMetric(w http.ResponseWriter, r *http.Request) {
	gv := emv1beta1.SchemeGroupVersion
	req, err := parseExternalRequest(chi.URLParam(r, "ns"), chi.URLParam(r, "metric"), r.URL.Query())
	gr := schema.GroupResource{Group: external_metrics.GroupName, Resource: req.info.Metric}
	if err != nil {
		h.writeError(w, r, gv, toStatusError(err, gr, req.info.Metric))
		return
	}
	ctx, cancel := h.providerContext(r)
	defer cancel()
	values, err := h.external.GetExternalMetric(ctx, req.namespace, req.metricSelector, req.info)
	if err != nil {
		h.writeError(w, r, gv, toStatusError(err, gr, req.info.Metric))
		return
	}
	list := externalV1beta1(values, req.info.Metric)
	if len(list.Items) == 0 {
		// The HPA sums the items; none at all is missing data, never a 0.
		err := fmt.Errorf("external metric %q in namespace %q: %w", req.info.Metric, req.namespace, ErrNoData)
		h.writeError(w, r, gv, toStatusError(err, gr, req.info.Metric))
		return
	}
	h.writeObject(w, r, gv, list)
}

// parseExternalRequest validates an external metrics request; like
// parseCustomRequest it answers every malformed input with an error.
func parseExternalRequest(rawNamespace, rawMetric string, query url.Values) (externalRequest, error) {
	var req externalRequest
	metric, err := pathSegment("metric", rawMetric)
	if err != nil {
		return req, err
	}
	req.info.Metric = metric
	if req.namespace, err = pathSegment("namespace", rawNamespace); err != nil {
		return req, err
	}
	// For external metrics labelSelector selects the metric's series.
	req.metricSelector, _, err = parseSelector(paramLabelSelector, query.Get(paramLabelSelector))
	return req, err
}

// pathSegment decodes one path parameter and rejects what cannot be a name:
// empty, ".", "..", or holding '/', '%' or '?' once decoded (metric names may
// not contain them either).
func pathSegment(what, raw string) (string, error) {
	s, err := url.PathUnescape(raw)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", what, raw, ErrBadRequest)
	}
	if s == "" {
		return "", fmt.Errorf("empty %s: %w", what, ErrBadRequest)
	}
	if msgs := path.IsValidPathSegmentName(s); len(msgs) > 0 {
		return "", fmt.Errorf("%s %q: %s: %w", what, s, strings.Join(msgs, ", "), ErrBadRequest)
	}
	if strings.ContainsAny(s, "?") {
		return "", fmt.Errorf("%s %q: may not contain '?': %w", what, s, ErrBadRequest)
	}
	return s, nil
}

// objectName is pathSegment that also accepts the wildcard "*".
func objectName(raw string) (string, error) {
	if s, err := url.PathUnescape(raw); err == nil && s == custom_metrics.AllObjects {
		return s, nil
	}
	return pathSegment("name", raw)
}

// parseSelector parses a label selector query parameter; empty selects
// everything and has no wire form.
func parseSelector(param, raw string) (labels.Selector, *metav1.LabelSelector, error) {
	if raw == "" {
		return labels.Everything(), nil, nil
	}
	sel, err := labels.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %q: %w: %w", param, raw, ErrBadSelector, err)
	}
	return sel, wireSelector(raw, sel), nil
}

// wireSelector returns the metav1 form of a parsed selector, echoed in
// responses. metav1.ParseToLabelSelector does not know "!=", so requirements
// are mapped one by one when it fails; "!=" becomes NotIn with one value. Gt
// and Lt have no metav1 form: the selector is then not echoed, and the
// provider decides whether it can serve it.
func wireSelector(raw string, sel labels.Selector) *metav1.LabelSelector {
	if wire, err := metav1.ParseToLabelSelector(raw); err == nil {
		return wire
	}
	reqs, _ := sel.Requirements()
	wire := &metav1.LabelSelector{}
	for _, r := range reqs {
		var op metav1.LabelSelectorOperator
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			op = metav1.LabelSelectorOpIn
		case selection.NotEquals, selection.NotIn:
			op = metav1.LabelSelectorOpNotIn
		case selection.Exists:
			op = metav1.LabelSelectorOpExists
		case selection.DoesNotExist:
			op = metav1.LabelSelectorOpDoesNotExist
		default:
			return nil
		}
		wire.MatchExpressions = append(wire.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: r.Key(), Operator: op, Values: r.Values().List(),
		})
	}
	return wire
}

// toStatusError maps a provider or parsing error to the Status the client
// sees. gr and name describe what was asked for, for the Status details.
func toStatusError(err error, gr schema.GroupResource, name string) *apierrors.StatusError {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se
	}
	var details *metav1.StatusDetails
	if gr.Resource != "" || name != "" {
		details = &metav1.StatusDetails{Group: gr.Group, Kind: gr.Resource, Name: name}
	}
	status := func(code int32, reason metav1.StatusReason) *apierrors.StatusError {
		se := failure(code, reason, err.Error())
		se.ErrStatus.Details = details
		return se
	}
	switch {
	case errors.Is(err, ErrBadSelector), errors.Is(err, ErrBadRequest):
		return status(http.StatusBadRequest, metav1.StatusReasonBadRequest)
	case errors.Is(err, ErrMetricNotFound), errors.Is(err, ErrObjectNotFound), errors.Is(err, ErrNoData):
		return status(http.StatusNotFound, metav1.StatusReasonNotFound)
	case errors.Is(err, ErrBackendUnavailable), errors.Is(err, context.DeadlineExceeded):
		return status(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable)
	}
	return status(http.StatusInternalServerError, metav1.StatusReasonInternalError)
}

// failure returns a Status error without details.
func failure(code int32, reason metav1.StatusReason, message string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    code,
		Reason:  reason,
		Message: message,
	}}
}

func (h *apiHandler) writeObject(w http.ResponseWriter, r *http.Request, gv schema.GroupVersion, obj runtime.Object) {
	responsewriters.WriteObjectNegotiated(h.codecs, negotiation.DefaultEndpointRestrictions, gv, w, r, http.StatusOK, obj, false)
}

func (h *apiHandler) writeError(w http.ResponseWriter, r *http.Request, gv schema.GroupVersion, se *apierrors.StatusError) {
	code := se.Status().Code
	if code >= http.StatusInternalServerError {
		klog.ErrorS(se, "Metrics request failed", "path", r.URL.Path, "code", code)
	} else {
		klog.V(4).InfoS("Metrics request rejected", "path", r.URL.Path, "code", code, "reason", se.Status().Reason)
	}
	responsewriters.ErrorNegotiated(se, h.codecs, gv, w, r)
}
