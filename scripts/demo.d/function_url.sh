# Sourced by scripts/demo while its server runs (uses lam, endpoint, base, role, step).
# A function URL called with curl, and a function that imports a module from its layer.

step "A function URL, called with curl"
(cd examples/function_url && python3 -m zipfile -c "$base/url-hello.zip" handler.py)
lam create-function --function-name url-hello --runtime python3.11 --handler handler.handler \
  --role "$role" --zip-file "fileb://$base/url-hello.zip" --query FunctionName --output text
url=$(lam create-function-url-config --function-name url-hello --auth-type NONE \
  --query FunctionUrl --output text)
echo "FunctionUrl: $url"
echo "-- curl -i '${url}greetings?name=Ada':"
curl -s -i "${url}greetings?name=Ada" | tr -d '\r' | grep -iv '^date:'
echo
echo "-- the same URL by Host (AWS's <url-id>.lambda-url.<region>.<domain> form):"
url_id=$(basename "$url")
port=${endpoint##*:}
curl -s --resolve "$url_id.lambda-url.us-east-1.localhost:$port:127.0.0.1" \
  "http://$url_id.lambda-url.us-east-1.localhost:$port/other?name=Grace"
echo

step "A layer: a Python function imports a module from it"
(cd examples/layers/greeting && python3 -m zipfile -c "$base/greeting-layer.zip" python)
layer=$(lam publish-layer-version --layer-name greeting --compatible-runtimes python3.11 \
  --zip-file "fileb://$base/greeting-layer.zip" --query LayerVersionArn --output text)
echo "published $layer"
(cd examples/layers/app && python3 -m zipfile -c "$base/layered.zip" handler.py)
lam create-function --function-name layered-hello --runtime python3.11 --handler handler.handler \
  --role "$role" --zip-file "fileb://$base/layered.zip" --layers "$layer" \
  --query 'Layers[].[Arn, CodeSize]' --output text
echo '{"name":"Ada"}' >"$base/ada-layer.json"
lam invoke --function-name layered-hello --payload "fileb://$base/ada-layer.json" \
  "$base/layered-out.json" --query StatusCode --output text
cat "$base/layered-out.json"; echo
