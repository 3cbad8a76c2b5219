package org.midimesh.http.internal;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;

/**
 * The one place the HTTP API's Jackson set-up lives: snake_case names, unknown fields rejected, no type coercion
 * ({@code "12"} is not an integer, {@code 12} is not a string, {@code 1.5} is not an integer), duplicate keys and
 * trailing content rejected. Also turns Jackson's exceptions into messages that name the field and never show Java
 * class names. Stateless; the mappers it makes are thread-safe once built.
 */
final class ApiJson {

    private ApiJson() {
    }

    /** A new, fully configured mapper; each servlet builds one in its constructor and shares it across requests. */
    static ObjectMapper newMapper() {
        JsonMapper mapper = JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .build();
        for (LogicalType scalar : List.of(LogicalType.Integer, LogicalType.Float, LogicalType.Boolean,
                LogicalType.Textual)) {
            for (CoercionInputShape shape : List.of(CoercionInputShape.Integer, CoercionInputShape.Float,
                    CoercionInputShape.Boolean, CoercionInputShape.String, CoercionInputShape.EmptyString)) {
                mapper.coercionConfigFor(scalar).setCoercion(shape, CoercionAction.Fail);
            }
        }
        // The matching shapes (an integer for an int, a string for a String) never go through coercion.
        return mapper;
    }

    /** A message for a person, naming the field, for a request body Jackson could not read. */
    static String describe(JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            Collection<Object> known = u.getKnownPropertyIds();
            String allowed = known == null || known.isEmpty() ? ""
                    : " (allowed: " + known.stream().map(String::valueOf).sorted().collect(Collectors.joining(", "))
                            + ")";
            return path(u.getPath()) + ": unknown field" + allowed;
        }
        JacksonException root = rootJacksonCause(e);
        if (root instanceof InputCoercionException) {
            String where = e instanceof JsonMappingException m ? path(m.getPath()) : "";
            return (where.isEmpty() ? "number" : where) + ": number out of range";
        }
        if (root instanceof StreamReadException p && !(root instanceof MismatchedInputException)) {
            var loc = p.getLocation();
            String at = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            return "malformed JSON" + at + ": " + p.getOriginalMessage();
        }
        if (e instanceof MismatchedInputException m) {
            String where = path(m.getPath());
            if (where.isEmpty()) {
                return "request body must be a JSON object";
            }
            return where + ": expected " + kind(m.getTargetType());
        }
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            return path(m.getPath()) + ": invalid value";
        }
        return "invalid request body";
    }

    private static JacksonException rootJacksonCause(Throwable e) {
        JacksonException found = null;
        for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof JacksonException j) {
                found = j;
            }
        }
        return found;
    }

    /** {@code messages[3]}, {@code source.device_id}. */
    static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String kind(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class
                || type == Short.class || type == short.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        if (Number.class.isAssignableFrom(type) || type.isPrimitive()) {
            return "a number";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "an object";
        }
        return "another type";
    }
}
