import java.lang.reflect.Field;

/**
 * Starts DynamoDB Local (its own command line, e.g. -port 8000 -inMemory -disableTelemetry)
 * listening on 127.0.0.1 only. DynamoDB Local has no option for the address: it builds its
 * Jetty server on a port, which listens on every interface. This builds the same server and
 * sets the connector's host to the loopback address before starting it. Reflection only, so
 * it compiles without DynamoDB Local on the class path; the .class beside it is what runs
 * (compiled with `javac --release 17 LoopbackDynamoDbLocal.java`), as a JRE has no compiler.
 */
public final class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
    Object proxy =
        runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) args);
    Field field = proxy.getClass().getDeclaredField("server");
    field.setAccessible(true);
    Object jetty = field.get(proxy);
    Object[] connectors = (Object[]) jetty.getClass().getMethod("getConnectors").invoke(jetty);
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector");
    for (Object connector : connectors) {
      connector.getClass().getMethod("setHost", String.class).invoke(connector, "127.0.0.1");
    }
    proxy.getClass().getMethod("start").invoke(proxy);
  }
}
